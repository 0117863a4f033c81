namespace BankGrains.Runtime.Transactions;

/// <summary>
/// Runs code outside grains (or inside one) as one transaction (Orleans' ITransactionClient), and
/// answers what became of a transaction whose outcome the caller could not learn.
/// </summary>
public interface ITransactionClient
{
    /// <summary>
    /// Runs <paramref name="body"/> in a transaction and commits it. <paramref name="transactionId"/>
    /// names it (a transfer id, say); a new id is made when null. Throws what the body threw (after
    /// aborting), <see cref="TransactionAbortedException"/> when the runtime aborted it, or
    /// <see cref="TransactionInDoubtException"/> when it cannot know whether the commit happened.
    /// </summary>
    Task RunTransaction(TransactionOption option, Func<Task> body, Guid? transactionId = null);

    /// <summary>As <see cref="RunTransaction(TransactionOption, Func{Task}, Guid?)"/>, returning the body's result once committed.</summary>
    Task<TResult> RunTransaction<TResult>(TransactionOption option, Func<Task<TResult>> body, Guid? transactionId = null);

    /// <summary>
    /// The final outcome of a transaction. When nothing is recorded for it, this records it as
    /// aborted, so a commit still in flight can no longer succeed: the answer never changes later.
    /// Throws when storage cannot be reached.
    /// </summary>
    Task<TransactionOutcome> ResolveOutcomeAsync(Guid transactionId, CancellationToken cancellationToken = default);
}

public enum TransactionOutcome
{
    Committed,
    Aborted,
}
