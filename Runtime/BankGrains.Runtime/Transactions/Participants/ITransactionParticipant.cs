namespace BankGrains.Runtime.Transactions;

/// <summary>
/// The commit protocol between a transaction's coordinator and the grains that joined it. Every grain
/// answers it (the <see cref="Grain"/> base class routes it to the activation's transactional states);
/// its calls interleave with the grain's own turns, so a waiting lock never blocks them.
/// </summary>
public interface ITransactionParticipant : IGrain
{
    /// <summary>Checks the lock is still held and hands over the new state; frees the lock for the next transaction.</summary>
    [AlwaysInterleave]
    Task<TransactionVote> PrepareAsync(Guid transactionId, Guid run);

    /// <summary>The outcome: committed changes become the state, aborted ones are dropped (reload: storage moved on).</summary>
    [AlwaysInterleave]
    Task DecideAsync(Guid transactionId, Guid run, bool committed, bool reload);
}

/// <summary>
/// A participant's vote. When prepared, <paramref name="Writes"/> are its new states (fenced by the
/// versions they were built on) and <paramref name="DependsOn"/> names the run of the uncommitted transaction
/// they were built on, which must commit first (in the same group or an earlier one).
/// </summary>
[Immutable]
public sealed record TransactionVote(
    bool Prepared,
    TransactionAbortReason? Refusal,
    string? Detail,
    IReadOnlyList<StateWrite> Writes,
    Guid? DependsOn)
{
    public static TransactionVote Refuse(TransactionAbortReason reason, string detail) => new(false, reason, detail, [], null);
}
