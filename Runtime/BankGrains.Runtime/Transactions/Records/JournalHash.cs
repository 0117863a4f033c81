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

    public static string Compute(JournalEntry e)
    {
        var text = string.Join('|',
            e.PreviousHash,
            e.TransactionId.ToString("N"),
            e.AccountId,
            e.Sequence.ToString(CultureInfo.InvariantCulture),
            e.Currency,
            Canonical(e.Amount),
            Canonical(e.BalanceAfter),
            TruncateToMicroseconds(e.PostedAt).UtcTicks.ToString(CultureInfo.InvariantCulture));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    public static DateTimeOffset TruncateToMicroseconds(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.UtcTicks - utc.UtcTicks % 10, TimeSpan.Zero);
    }

    private static string Canonical(decimal value) => value.ToString("0.############################", CultureInfo.InvariantCulture);
}
