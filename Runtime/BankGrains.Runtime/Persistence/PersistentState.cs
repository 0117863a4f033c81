using BankGrains.Runtime.Serialization;

namespace BankGrains.Runtime.Persistence;

/// <summary>Lets the activation read every injected state before OnActivateAsync.</summary>
internal interface IPersistentStateBinding
{
    Task ReadStateAsync();
}

/// <summary>
/// The runtime's <see cref="IPersistentState{T}"/>. It remembers the last stored form of the state,
/// so when a write or clear fails the in-memory state is put back to what storage holds (Orleans
/// leaves it modified, and the activation then serves a value that was never stored).
/// </summary>
internal sealed class PersistentState<T>(string stateName, GrainId grainId, IGrainStorage storage, IGrainWriteFence fence)
    : IPersistentState<T>, IPersistentStateBinding
    where T : new()
{
    private readonly GrainState<T> _state = new(new T());
    private byte[]? _stored;

    public T State
    {
        get => _state.State;
        set => _state.State = value;
    }

    public string? Etag => _state.ETag;
    public bool RecordExists => _state.RecordExists;

    public async Task ReadStateAsync()
    {
        var fresh = new GrainState<T>(new T());
        await storage.ReadStateAsync(stateName, grainId, fresh);
        _state.State = fresh.State;
        _state.ETag = fresh.ETag;
        _state.RecordExists = fresh.RecordExists;
        _stored = fresh.RecordExists ? GrainJson.Serialize(fresh.State, typeof(T)) : null;
    }

    public async Task WriteStateAsync()
    {
        try
        {
            await fence.EnsureCanWriteAsync();
            await storage.WriteStateAsync(stateName, grainId, _state);
            _stored = GrainJson.Serialize(_state.State, typeof(T));
        }
        catch
        {
            RollBack();
            throw;
        }
    }

    public async Task ClearStateAsync()
    {
        try
        {
            await fence.EnsureCanWriteAsync();
            await storage.ClearStateAsync(stateName, grainId, _state);
            _state.State = new T();
            _stored = null;
        }
        catch
        {
            RollBack();
            throw;
        }
    }

    private void RollBack() => _state.State = _stored is null ? new T() : GrainJson.Deserialize<T>(_stored)!;
}
