using BankGrains.Runtime.Membership;

namespace BankGrains.Runtime.Transactions;

/// <summary>
/// One participant state's new value. The row must still be at <paramref name="ExpectedVersion"/>
/// (0: no row yet) and becomes ExpectedVersion + 1. In a cluster <paramref name="Writer"/> is the silo
/// whose activation built the value; the write is refused if that silo is dead in the membership table.
/// </summary>
public sealed record StateWrite(GrainId GrainId, string StateName, long ExpectedVersion, string Payload, SiloAddress? Writer = null)
{
    public long NewVersion => ExpectedVersion + 1;
}

/// <summary>Everything one transaction commits.</summary>
public sealed record CommitRequest(Guid TransactionId, IReadOnlyList<StateWrite> Writes, TransactionRecords Records);

public enum CommitStatus
{
    /// <summary>Written, with its commit record.</summary>
    Committed,
    /// <summary>A state was not at its expected version, or its writer is dead: nothing of this transaction was written.</summary>
    VersionConflict,
    /// <summary>An outcome is already recorded for this id (it was resolved as aborted, or committed before): nothing written.</summary>
    AlreadyDecided,
    /// <summary>The idempotency key was already completed by another request: nothing written.</summary>
    IdempotencyKeyUsed,
}

public sealed record CommitResult(Guid TransactionId, CommitStatus Status, string? Detail = null);

/// <summary>
/// Where transactions commit. Contract (one conformance suite for every provider):
/// <list type="bullet">
/// <item>a group is ONE database transaction with one durable flush; each request in it is isolated
/// (a savepoint), so a request whose checks fail writes nothing and the others still commit;</item>
/// <item>requests of a group are applied in order, so a later one may build on an earlier one's versions;</item>
/// <item>a committed request wrote its states, journal entries, header, events, idempotency record
/// and its commit record (outcome Committed) together;</item>
/// <item>an id has at most one outcome, forever: <see cref="ResolveAsync"/> records Aborted for an id
/// with none, and a later commit of that id gets <see cref="CommitStatus.AlreadyDecided"/>.</item>
/// </list>
/// </summary>
public interface ITransactionStore
{
    /// <summary>
    /// Commits the group. Throws when the database commit itself may or may not have happened (the
    /// connection broke during it); the caller must then resolve each id.
    /// </summary>
    Task<IReadOnlyList<CommitResult>> CommitAsync(IReadOnlyList<CommitRequest> group, CancellationToken cancellationToken = default);

    /// <summary>The recorded outcome; when there is none, records Aborted first. Definitive.</summary>
    Task<TransactionOutcome> ResolveAsync(Guid transactionId, CancellationToken cancellationToken = default);

    /// <summary>The recorded outcome, or null when none is recorded yet. Changes nothing.</summary>
    Task<TransactionOutcome?> ReadOutcomeAsync(Guid transactionId, CancellationToken cancellationToken = default);
}
