namespace BankGrains.Runtime.Transactions;

/// <summary>
/// What a transaction writes besides its participants' states, in the same database commit: the
/// journal entries of the double-entry ledger, a ledger header describing the movement, domain
/// events for the outbox, and the idempotency record of the request that caused it. Participants
/// add records while they run; they travel back to the coordinator with the call's response.
/// </summary>
public sealed class TransactionRecords
{
    public List<JournalEntry> Entries { get; init; } = [];
    public List<OutboxEvent> Events { get; init; } = [];
    public LedgerTransaction? Header { get; set; }
    public IdempotencyRecord? Idempotency { get; set; }

    public bool IsEmpty => Entries.Count == 0 && Events.Count == 0 && Header is null && Idempotency is null;

    public void MergeFrom(TransactionRecords other)
    {
        Entries.AddRange(other.Entries);
        Events.AddRange(other.Events);
        if (other.Header is not null) Header = other.Header;
        if (other.Idempotency is not null) Idempotency = other.Idempotency;
    }

    /// <summary>Debits must equal credits in every currency: the sum of signed amounts per currency is zero.</summary>
    public IReadOnlyList<string> UnbalancedCurrencies() =>
        Entries.GroupBy(e => e.Currency).Where(g => g.Sum(e => e.Amount) != 0m).Select(g => g.Key).ToList();
}

/// <summary>
/// One immutable line of an account's journal. <paramref name="Amount"/> is signed: positive credits
/// (raise the balance), negative debits. Each account's entries form a hash chain: <paramref name="Hash"/>
/// covers this entry and <paramref name="PreviousHash"/>, so changing or removing any entry breaks
/// every hash after it.
/// </summary>
public sealed record JournalEntry(
    Guid TransactionId,
    string AccountId,
    long Sequence,
    string Currency,
    decimal Amount,
    decimal BalanceAfter,
    DateTimeOffset PostedAt,
    string PreviousHash,
    string Hash);

/// <summary>The movement a transaction's entries make up: its kind ("transfer", "deposit"...), the caller's reference and details (JSON).</summary>
public sealed record LedgerTransaction(Guid TransactionId, string Kind, string? Reference, string Details, DateTimeOffset CreatedAt);

/// <summary>A domain event, committed with the change that caused it and published from the outbox afterwards.</summary>
public sealed record OutboxEvent(Guid EventId, string Topic, string Key, string Payload, DateTimeOffset OccurredAt);

/// <summary>
/// The stored answer to a request made with an Idempotency-Key: committed with the money movement, so
/// a retry finds either the movement and this answer, or neither.
/// </summary>
public sealed record IdempotencyRecord(string Key, string RequestHash, int StatusCode, string ResponseBody);
