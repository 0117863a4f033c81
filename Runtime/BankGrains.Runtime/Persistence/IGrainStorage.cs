namespace BankGrains.Runtime.Persistence;

/// <summary>
/// A grain-state store. Contract, checked by one conformance suite for every provider:
/// <list type="bullet">
/// <item>one record per (service, grain id, state name) — a real unique key;</item>
/// <item>every write and clear is a compare-and-swap on the ETag the caller holds; a mismatch throws
/// <see cref="InconsistentStateException"/> and changes nothing;</item>
/// <item>a clear leaves a tombstone with a new version, so a writer that read "no record" before
/// the record was created and cleared still cannot write (no ABA);</item>
/// <item>on success the provider sets the new ETag and RecordExists on <paramref name="grainState"/>;
/// on failure it leaves <paramref name="grainState"/> untouched.</item>
/// </list>
/// State is serialised with <see cref="Serialization.GrainJson"/>, so no caller ever shares an object with storage.
/// </summary>
public interface IGrainStorage
{
    Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState);
    Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState);
    Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState);
}
