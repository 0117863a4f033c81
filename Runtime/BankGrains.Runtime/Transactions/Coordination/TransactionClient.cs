namespace BankGrains.Runtime.Transactions;

/// <summary>The runtime's <see cref="ITransactionClient"/>: this process coordinates what it starts.</summary>
internal sealed class TransactionClient(TransactionAgent agent, ITransactionStore store) : ITransactionClient
{
    public Task RunTransaction(TransactionOption option, Func<Task> body, Guid? transactionId = null) =>
        RunTransaction(option, async () => { await body().ConfigureAwait(false); return true; }, transactionId);

    public Task<TResult> RunTransaction<TResult>(TransactionOption option, Func<Task<TResult>> body, Guid? transactionId = null)
    {
        var ambient = TransactionContext.Current;
        return option switch
        {
            TransactionOption.Create => agent.RunAsync(body, transactionId),
            TransactionOption.CreateOrJoin when ambient is null => agent.RunAsync(body, transactionId),
            TransactionOption.CreateOrJoin or TransactionOption.Supported => body(),
            TransactionOption.Join when ambient is null => throw new NotSupportedException("TransactionOption.Join needs an ambient transaction."),
            TransactionOption.Join => body(),
            TransactionOption.NotAllowed when ambient is not null => throw new NotSupportedException($"Called inside transaction {ambient} with TransactionOption.NotAllowed."),
            _ => WithoutTransactionAsync(body),
        };
    }

    public Task<TransactionOutcome> ResolveOutcomeAsync(Guid transactionId, CancellationToken cancellationToken = default) =>
        store.ResolveAsync(transactionId, cancellationToken);

    private static async Task<TResult> WithoutTransactionAsync<TResult>(Func<Task<TResult>> body)
    {
        TransactionContext.Set(null);
        return await body().ConfigureAwait(false);
    }
}
