using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace BankGrains.Runtime.Transactions;

/// <summary>
/// The hash chain of a journal: SHA-256 over a canonical text of the entry and the previous hash.
/// Amounts are written without trailing zeros and times in whole microseconds (what PostgreSQL keeps),
/// so an entry read back from any store hashes to the same value.
/// </summary>
public static class JournalHash
{
    /// <summary>The previous hash of an account's first entry.</summary>
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>Makes the next entry of an account's chain.</summary>
    public static JournalEntry Next(Guid transactionId, string accountId, long sequence, string currency, decimal amount,
        decimal balanceAfter, DateTimeOffset postedAt, string previousHash)
    {
        var at = TruncateToMicroseconds(postedAt);
        var entry = new JournalEntry(transactionId, accountId, sequence, currency, amount, balanceAfter, at, previousHash, "");
        return entry with { Hash = Compute(entry) };
    }

    /// <summary>
    /// SHA-256 of the UTF-8 text "previous|transaction (32 hex digits)|account|sequence|currency|amount|
    /// balance|posted at (UTC ticks)", written straight into one buffer: every posting hashes an entry,
    /// and building that text from strings cost several allocations per entry.
    /// </summary>
    public static string Compute(JournalEntry e)
    {
        var capacity = Encoding.UTF8.GetMaxByteCount(e.PreviousHash.Length + e.AccountId.Length + e.Currency.Length) + FixedPartsMaxBytes;
        byte[]? rented = null;
        Span<byte> buffer = capacity <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(capacity));
        try
        {
            var text = new CanonicalText(buffer);
            text.Append(e.PreviousHash);
            text.Append(e.TransactionId, "N");
            text.Append(e.AccountId);
            text.Append(e.Sequence, null);
            text.Append(e.Currency);
            text.Append(e.Amount, CanonicalDecimal);
            text.Append(e.BalanceAfter, CanonicalDecimal);
            text.Append(TruncateToMicroseconds(e.PostedAt).UtcTicks, null);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(text.Written, hash);
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static DateTimeOffset TruncateToMicroseconds(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.UtcTicks - utc.UtcTicks % 10, TimeSpan.Zero);
    }

    // Amounts without trailing zeros: 1.50 and 1.5 are the same amount and must hash alike.
    private const string CanonicalDecimal = "0.############################";

    // A 32-digit id, two longs (20 characters each at most), two decimals (a sign, 29 digits and a
    // point at most) and the seven separators.
    private const int FixedPartsMaxBytes = 32 + 2 * 20 + 2 * 31 + 7;

    /// <summary>The canonical text's fields, '|'-separated, as UTF-8 in a caller's buffer.</summary>
    private ref struct CanonicalText(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        private int _length;

        public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

        public void Append(string value)
        {
            Separate();
            _length += Encoding.UTF8.GetBytes(value, _buffer[_length..]);
        }

        public void Append<T>(T value, string? format) where T : IUtf8SpanFormattable
        {
            Separate();
            if (!value.TryFormat(_buffer[_length..], out var written, format, CultureInfo.InvariantCulture))
                throw new InvalidOperationException($"{value} does not fit the journal hash's buffer.");
            _length += written;
        }

        private void Separate()
        {
            if (_length > 0) _buffer[_length++] = (byte)'|';
        }
    }
}
