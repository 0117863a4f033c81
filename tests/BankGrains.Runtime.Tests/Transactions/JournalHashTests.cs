using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

/// <summary>
/// Stored journals were hashed with the canonical text's definition: whatever the implementation,
/// an entry must hash to the same value, or every existing ledger stops verifying.
/// </summary>
public sealed class JournalHashTests
{
    [Fact]
    public void An_entry_hashes_to_the_value_sha256sum_gives_for_its_canonical_text()
    {
        // printf '%s' '000…0|0f8fad5bd9cb469fa16570867728950e|acc-Ünïcode-1|42|EUR|-1234.56|0.1|638775340135897930' | sha256sum
        var entry = new JournalEntry(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), "acc-Ünïcode-1", 42, "EUR", -1234.5600m, 0.10m,
            new DateTimeOffset(2025, 3, 14, 9, 26, 53, TimeSpan.FromHours(2)).AddTicks(5_897_932), JournalHash.Genesis, "");

        Assert.Equal("65e7a9987ccf5c05d508d1bd5c867fde04fbda66ceb785405935c4b41a09a0c1", JournalHash.Compute(entry));
    }

    [Fact]
    public void Random_entries_hash_as_their_canonical_text_does()
    {
        var random = new Random(20261205);
        for (var i = 0; i < 2_000; i++)
        {
            var entry = new JournalEntry(Guid.NewGuid(), RandomText(random, random.Next(1, i % 50 == 0 ? 400 : 40)), random.NextInt64(1, long.MaxValue),
                i % 2 == 0 ? "USD" : "JPY", RandomDecimal(random), RandomDecimal(random),
                DateTimeOffset.UnixEpoch.AddTicks(random.NextInt64(0, 2_000_000_000_000_000_000)).ToOffset(TimeSpan.FromMinutes(random.Next(-720, 720))),
                Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), "");

            Assert.Equal(FromCanonicalText(entry), JournalHash.Compute(entry));
        }
    }

    // The definition, written the plain way.
    private static string FromCanonicalText(JournalEntry e)
    {
        var micros = e.PostedAt.UtcTicks - e.PostedAt.UtcTicks % 10;
        var text = string.Join('|', e.PreviousHash, e.TransactionId.ToString("N"), e.AccountId, e.Sequence.ToString(CultureInfo.InvariantCulture),
            e.Currency, e.Amount.ToString("0.############################", CultureInfo.InvariantCulture),
            e.BalanceAfter.ToString("0.############################", CultureInfo.InvariantCulture), micros.ToString(CultureInfo.InvariantCulture));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    // Letters from several scripts, so the UTF-8 text is longer than its characters (and, at 400, than the stack buffer).
    private static string RandomText(Random random, int length)
    {
        const string alphabet = "abcXYZ0189-_.ÄéßĞжλ中€";
        return string.Create(length, random, (span, r) => { for (var i = 0; i < span.Length; i++) span[i] = alphabet[r.Next(alphabet.Length)]; });
    }

    private static decimal RandomDecimal(Random random) =>
        new(random.Next(), random.Next(), random.Next(), random.Next(2) == 0, (byte)random.Next(0, 29));
}
