using BankGrains.Runtime.Transactions;

namespace BankGrains.Runtime.Tests.Transactions;

/// <summary>
/// Builds valid hash-chained journal entries for tests. <see cref="Transfer"/> makes the entries of a
/// movement from the heads of the chains; <see cref="Accept"/> moves the heads once they are committed,
/// so a refused request leaves the builder where it was.
/// </summary>
internal sealed class JournalBuilder
{
    private readonly Dictionary<string, (long Sequence, string Hash, decimal Balance)> _heads = new(StringComparer.Ordinal);

    // Sub-microsecond ticks on purpose: every store must keep what JournalHash hashes (whole microseconds).
    public DateTimeOffset Clock { get; set; } = new DateTimeOffset(2025, 3, 14, 9, 26, 53, TimeSpan.FromHours(2)).AddTicks(5_897_932);

    /// <summary>Debits <paramref name="from"/> and credits <paramref name="to"/> (balanced), without moving the heads.</summary>
    public List<JournalEntry> Transfer(Guid tx, string from, string to, decimal amount, string currency = "EUR") =>
        Entries(tx, currency, (from, -amount), (to, amount));

    /// <summary>Entries for the given (account, signed amount) pairs, in order, chaining repeated accounts.</summary>
    public List<JournalEntry> Entries(Guid tx, string currency, params (string Account, decimal Amount)[] lines)
    {
        var heads = new Dictionary<string, (long Sequence, string Hash, decimal Balance)>(_heads, StringComparer.Ordinal);
        var entries = new List<JournalEntry>();
        Clock = Clock.AddMilliseconds(1);
        foreach (var (account, amount) in lines)
        {
            var head = heads.TryGetValue(account, out var h) ? h : (Sequence: 0L, Hash: JournalHash.Genesis, Balance: 0m);
            var entry = JournalHash.Next(tx, account, head.Sequence + 1, currency, amount, head.Balance + amount, Clock, head.Hash);
            heads[account] = (entry.Sequence, entry.Hash, entry.BalanceAfter);
            entries.Add(entry);
        }
        return entries;
    }

    public void Accept(IEnumerable<JournalEntry> entries)
    {
        foreach (var e in entries) _heads[e.AccountId] = (e.Sequence, e.Hash, e.BalanceAfter);
    }

    public decimal BalanceOf(string account) => _heads.TryGetValue(account, out var h) ? h.Balance : 0m;

    public string HashOf(string account) => _heads.TryGetValue(account, out var h) ? h.Hash : JournalHash.Genesis;
}
