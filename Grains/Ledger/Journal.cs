using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Grains;

/// <summary>The end of one ledger account's hash chain, kept in the account's own state.</summary>
public interface ILedgerChain
{
    long LedgerSequence { get; set; }
    string? LastEntryHash { get; set; }
}

/// <summary>
/// Posting to the double-entry ledger from inside a transaction: the entry extends the account's
/// chain (in the account's state, which commits with it) and joins the transaction's records.
/// </summary>
internal static class Journal
{
    public static JournalEntry Post(ILedgerChain chain, string ledgerAccountId, Money amount, Money balanceAfter, DateTimeOffset at)
    {
        var tx = TransactionContext.Current
            ?? throw new InvalidOperationException("Journal entries are posted only inside a transaction.");
        var entry = JournalHash.Next(tx.Id, ledgerAccountId, chain.LedgerSequence + 1, amount.Currency.Code, amount.Amount,
            balanceAfter.Amount, at, chain.LastEntryHash ?? JournalHash.Genesis);
        chain.LedgerSequence = entry.Sequence;
        chain.LastEntryHash = entry.Hash;
        tx.AddRecords(r => r.Entries.Add(entry));
        return entry;
    }

    /// <summary>Describes the movement the transaction's entries make up (kept once per transaction).</summary>
    public static void Describe(string kind, string? reference, object details, DateTimeOffset at)
    {
        var tx = TransactionContext.Current
            ?? throw new InvalidOperationException("A ledger movement is described only inside a transaction.");
        var json = System.Text.Json.JsonSerializer.Serialize(details, Runtime.Serialization.GrainJson.Options);
        tx.AddRecords(r => r.Header ??= new LedgerTransaction(tx.Id, kind, reference, json, JournalHash.TruncateToMicroseconds(at)));
    }

    /// <summary>A domain event for the outbox, committed with the change.</summary>
    public static void Emit(string topic, string key, object payload, DateTimeOffset at)
    {
        var tx = TransactionContext.Current
            ?? throw new InvalidOperationException("Events are emitted only inside a transaction.");
        var json = System.Text.Json.JsonSerializer.Serialize(payload, Runtime.Serialization.GrainJson.Options);
        tx.AddRecords(r => r.Events.Add(new OutboxEvent(Guid.CreateVersion7(), topic, key, json, JournalHash.TruncateToMicroseconds(at))));
    }
}
