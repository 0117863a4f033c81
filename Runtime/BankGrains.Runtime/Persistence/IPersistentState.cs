namespace BankGrains.Runtime.Persistence;

/// <summary>
/// A grain's persistent state, injected into its constructor with [PersistentState(name, store)].
/// The state is read before OnActivateAsync. A failed write rolls <see cref="State"/> back to the
/// last stored value, so the activation never serves a change that storage refused.
/// </summary>
public interface IPersistentState<T> where T : new()
{
    T State { get; set; }
    string? Etag { get; }
    bool RecordExists { get; }
    Task ReadStateAsync();
    Task WriteStateAsync();
    Task ClearStateAsync();
}

/// <summary>Marks a grain constructor parameter of type <see cref="IPersistentState{T}"/>.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class PersistentStateAttribute(string stateName, string? storageName = null) : Attribute
{
    public string StateName { get; } = stateName;

    /// <summary>The registered storage provider; null means the default one.</summary>
    public string? StorageName { get; } = storageName;
}
