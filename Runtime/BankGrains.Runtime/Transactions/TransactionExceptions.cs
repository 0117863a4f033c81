namespace BankGrains.Runtime.Transactions;

/// <summary>
/// Why the runtime aborted a transaction. Nothing was written for any of them, so the work may be
/// retried — under a new transaction id: an id whose abort was recorded (in doubt, resolved) never
/// commits, and a new id with the request's idempotency key is how a retry stays at-most-once.
/// </summary>
public enum TransactionAbortReason
{
    /// <summary>Wait-die: a younger transaction asked for a grain an older one holds.</summary>
    LockConflict,
    /// <summary>The transaction outlived its timeout; its locks and changes were dropped.</summary>
    LockExpired,
    /// <summary>A participant's state changed in storage since it was read (another activation wrote it).</summary>
    VersionConflict,
    /// <summary>A rule checked at commit refused it (unbalanced journal entries, an idempotency key already used).</summary>
    ValidationFailed,
    /// <summary>A participant no longer knows the transaction (its silo failed or it was deactivated).</summary>
    ParticipantLost,
    /// <summary>It built on another transaction's uncommitted changes, and that transaction aborted.</summary>
    DependencyAborted,
    /// <summary>Storage refused or failed the commit, and the commit is known not to have happened.</summary>
    StorageFailed,
    /// <summary>The request's idempotency key was already completed by another transaction (read that answer instead).</summary>
    IdempotencyKeyUsed,
    /// <summary>This transaction id was already resolved as aborted (after a failure or a timeout); an id never commits later: retry under a new id.</summary>
    AlreadyResolved,
}

/// <summary>
/// The runtime aborted the transaction; nothing it did was written, and it may be retried. The message
/// names the transaction and the reason (it is carried between silos as it is).
/// </summary>
public class TransactionAbortedException(Guid transactionId, TransactionAbortReason reason, string message)
    : Exception(message)
{
    public Guid TransactionId { get; } = transactionId;
    public TransactionAbortReason Reason { get; } = reason;

    /// <summary>Nothing was written; the work may be retried (under a new id), and a retry with the same idempotency key never applies twice.</summary>
    public bool IsRetryable => true;
}

/// <summary>
/// This run of the transaction was not applied because the same transaction id had already committed
/// (a caller ran it twice). The id's effects exist exactly once; this run's result is void.
/// </summary>
public class TransactionAlreadyCommittedException(Guid transactionId, string message) : Exception(message)
{
    public Guid TransactionId { get; } = transactionId;
}

/// <summary>
/// The caller cannot know whether the transaction committed (the coordinator or storage failed
/// after the commit was sent). Read the outcome with <see cref="ITransactionClient.ResolveOutcomeAsync"/>.
/// </summary>
public class TransactionInDoubtException(Guid transactionId, string message)
    : Exception(message)
{
    public Guid TransactionId { get; } = transactionId;
}
