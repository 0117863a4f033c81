using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Serialization;
using BankGrains.Runtime.Storage;

namespace BankGrains.Runtime.Transactions;

/// <summary>What the activation's transactional resource needs from each of its states.</summary>
internal interface ITransactionalStateBinding
{
    string Name { get; }
    Task<(object Value, long Version)> ReadCommittedAsync();
    /// <summary>A private copy; version 0 means no record exists, so a fresh state is the copy (defaults may not serialise).</summary>
    object Copy(object value, long version);
    string Serialize(object value);
}

/// <summary>
/// The runtime's <see cref="ITransactionalState{TState}"/>. Inside a transaction it works on that
/// transaction's private copy; outside one, a read sees the last committed value.
/// </summary>
internal sealed class TransactionalState<TState>(string name, GrainId grainId, IGrainStorage storage, TransactionalResource resource)
    : ITransactionalState<TState>, ITransactionalStateBinding, IPersistentStateBinding
    where TState : class, new()
{
    public string Name => name;

    public async Task<TResult> PerformRead<TResult>(Func<TState, TResult> read)
    {
        if (TransactionContext.Current is not { } tx) return read((TState)resource.Committed(name));
        return read((TState)await resource.WorkingCopyAsync(tx, name, forUpdate: false));
    }

    public async Task<TResult> PerformUpdate<TResult>(Func<TState, TResult> update)
    {
        var tx = TransactionContext.Current
            ?? throw new InvalidOperationException(
                $"State '{name}' of {grainId} can change only inside a transaction: mark the grain method with [Transaction(...)].");
        var copy = (TState)await resource.WorkingCopyAsync(tx, name, forUpdate: true);
        try
        {
            return update(copy);
        }
        catch
        {
            // The copy may be half-changed: this transaction can no longer commit here.
            resource.Doom(tx, TransactionAbortReason.ValidationFailed, $"an update of '{name}' on {grainId} threw");
            throw;
        }
    }

    public Task ReadStateAsync() => resource.LoadAsync(this);

    public async Task<(object Value, long Version)> ReadCommittedAsync()
    {
        var state = new GrainState<TState>(new TState());
        await storage.ReadStateAsync(name, grainId, state);
        var version = state.ETag is { } etag && GrainStateCodec.TryParseETag(etag, out var v) ? v : 0;
        return (state.State ?? new TState(), version);
    }

    public object Copy(object value, long version) =>
        version == 0 ? new TState()
        : value is IDeepCopyable<TState> copyable ? copyable.DeepCopy()
        : GrainJson.Deserialize<TState>(GrainJson.Serialize(value, typeof(TState)))!;

    public string Serialize(object value) => GrainStateCodec.Serialize((TState)value);
}
