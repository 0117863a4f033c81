namespace BankGrains.Runtime.Transactions;

/// <summary>
/// State that changes only inside transactions (Orleans' ITransactionalState). Reads and updates run
/// on this transaction's private copy, under the grain's transaction lock; the copy becomes the
/// committed state only when the whole transaction commits.
/// </summary>
public interface ITransactionalState<TState> where TState : class, new()
{
    Task<TResult> PerformRead<TResult>(Func<TState, TResult> read);

    Task<TResult> PerformUpdate<TResult>(Func<TState, TResult> update);
}

public static class TransactionalStateExtensions
{
    public static Task PerformUpdate<TState>(this ITransactionalState<TState> state, Action<TState> update) where TState : class, new() =>
        state.PerformUpdate(s => { update(s); return true; });
}

/// <summary>Injects an <see cref="ITransactionalState{TState}"/> into a grain constructor parameter.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class TransactionalStateAttribute(string stateName, string? storageName = null) : Attribute
{
    public string StateName { get; } = stateName;

    /// <summary>The grain storage the committed state is read from; the default store when null.</summary>
    public string? StorageName { get; } = storageName;
}

/// <summary>
/// A transactional state that copies itself. Every transaction works on a private copy of the state;
/// without this the copy is a JSON round trip. Implement it only when the copy shares nothing mutable
/// with the original (value types, strings, immutable records — then MemberwiseClone is a full copy).
/// </summary>
public interface IDeepCopyable<out TState> where TState : class
{
    TState DeepCopy();
}
