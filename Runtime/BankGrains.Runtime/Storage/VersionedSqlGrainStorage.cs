using BankGrains.Runtime.Persistence;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// What the SQL grain storages share: one row per (service, grain, state) whose version is the ETag;
/// read, write and clear as compare-and-swaps on it; a clear keeps a tombstone row. A provider only
/// says how to select a row and how to run the conditional statement.
/// </summary>
public abstract class VersionedSqlGrainStorage : IGrainStorage
{
    protected VersionedSqlGrainStorage(string serviceId)
    {
        GrainStateCodec.ValidateServiceId(serviceId);
        ServiceId = serviceId;
    }

    protected string ServiceId { get; }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        GrainStateCodec.Validate(stateName, grainId, grainState);
        var (version, payload) = await SelectAsync(stateName, grainId).ConfigureAwait(false);

        // Deserialise before touching grainState, so a failure leaves it as it was.
        var state = payload is null ? GrainStateCodec.DefaultState<T>() : GrainStateCodec.Deserialize<T>(payload);
        grainState.State = state;
        grainState.ETag = version is { } v ? GrainStateCodec.FormatETag(v) : null;
        grainState.RecordExists = payload is not null;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        GrainStateCodec.Validate(stateName, grainId, grainState);
        var payload = GrainStateCodec.Serialize(grainState.State);
        var version = await CompareAndSwapAsync("Write", stateName, grainId, grainState.ETag, payload).ConfigureAwait(false);
        grainState.ETag = GrainStateCodec.FormatETag(version);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        GrainStateCodec.Validate(stateName, grainId, grainState);
        var version = await CompareAndSwapAsync("Clear", stateName, grainId, grainState.ETag, payload: null).ConfigureAwait(false);
        grainState.State = GrainStateCodec.DefaultState<T>();
        grainState.ETag = GrainStateCodec.FormatETag(version);
        grainState.RecordExists = false;
    }

    /// <summary>The stored version and payload (null payload: a tombstone); (null, null) when there is no row.</summary>
    protected abstract Task<(long? Version, string? Payload)> SelectAsync(string stateName, GrainId grainId);

    /// <summary>
    /// One conditional statement: insert version 1 when <paramref name="expectedVersion"/> is null and no
    /// row exists, else bump the version if it still is <paramref name="expectedVersion"/>. Returns the new
    /// version, or null when the statement changed nothing.
    /// </summary>
    protected abstract Task<long?> TrySwapAsync(string stateName, GrainId grainId, long? expectedVersion, string? payload);

    /// <summary>Why a swap changed nothing: a version conflict, unless the provider knows another reason.</summary>
    protected virtual async Task<Exception> RefusalAsync(string operation, string stateName, GrainId grainId, string? expectedETag) =>
        await ConflictAsync(operation, stateName, grainId, expectedETag).ConfigureAwait(false);

    private async Task<long> CompareAndSwapAsync(string operation, string stateName, GrainId grainId, string? expectedETag, string? payload)
    {
        long expected = 0;
        if (expectedETag is not null && !GrainStateCodec.TryParseETag(expectedETag, out expected))
            throw await ConflictAsync(operation, stateName, grainId, expectedETag).ConfigureAwait(false);
        if (await TrySwapAsync(stateName, grainId, expectedETag is null ? null : expected, payload).ConfigureAwait(false) is { } version)
            return version;
        throw await RefusalAsync(operation, stateName, grainId, expectedETag).ConfigureAwait(false);
    }

    /// <summary>Reads what is stored now, only to say in the exception why the swap was refused.</summary>
    private async Task<InconsistentStateException> ConflictAsync(string operation, string stateName, GrainId grainId, string? expectedETag)
    {
        var (version, payload) = await SelectAsync(stateName, grainId).ConfigureAwait(false);
        return GrainStateCodec.Conflict(operation, stateName, grainId, expectedETag, version, version is not null && payload is null);
    }
}
