using BankGrains.Runtime.Persistence;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// Grain storage in process memory, for tests and development. It keeps the same contract as the
/// database providers: states are stored serialised (a caller never shares an object with storage),
/// every write and clear is a compare-and-swap on the version, and a clear leaves a tombstone.
/// Thread-safe. Nothing survives the process.
/// </summary>
public sealed class MemoryGrainStorage : IGrainStorage
{
    private readonly object _gate = new();
    private readonly Dictionary<(string GrainId, string StateName), Record> _records = new();

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        GrainStateCodec.Validate(stateName, grainId, grainState);
        Record? record;
        lock (_gate) record = _records.GetValueOrDefault((grainId.ToString(), stateName));

        // Deserialise before touching grainState, so a failure leaves it as it was.
        var state = record?.Payload is { } payload ? GrainStateCodec.Deserialize<T>(payload) : GrainStateCodec.DefaultState<T>();
        grainState.State = state;
        grainState.ETag = record is null ? null : GrainStateCodec.FormatETag(record.Version);
        grainState.RecordExists = record?.Payload is not null;
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        GrainStateCodec.Validate(stateName, grainId, grainState);
        var version = CompareAndSwap("Write", stateName, grainId, grainState.ETag, GrainStateCodec.SerializeToUtf8(grainState.State));
        grainState.ETag = GrainStateCodec.FormatETag(version);
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        GrainStateCodec.Validate(stateName, grainId, grainState);
        var version = CompareAndSwap("Clear", stateName, grainId, grainState.ETag, payload: null);
        grainState.State = GrainStateCodec.DefaultState<T>();
        grainState.ETag = GrainStateCodec.FormatETag(version);
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private long CompareAndSwap(string operation, string stateName, GrainId grainId, string? expectedETag, byte[]? payload)
    {
        var key = (grainId.ToString(), stateName);
        lock (_gate)
        {
            var current = _records.GetValueOrDefault(key);
            var matches = expectedETag is null
                ? current is null
                : current is not null && GrainStateCodec.TryParseETag(expectedETag, out var expected) && expected == current.Version;
            if (!matches)
                throw GrainStateCodec.Conflict(operation, stateName, grainId, expectedETag, current?.Version, current is { Payload: null });

            var next = new Record((current?.Version ?? 0) + 1, payload);
            _records[key] = next;
            return next.Version;
        }
    }

    /// <summary>
    /// Writes several states all-or-nothing (the memory twin of a database transaction over grain_state),
    /// for <see cref="Transactions.MemoryTransactionStore"/>. Every write is checked first, in order, as if
    /// the earlier ones had been applied: a write expects <see cref="MemoryStateWrite.ExpectedVersion"/>
    /// (0: no row; a tombstone at version v accepts v) and stores version expected + 1. Only when all pass
    /// are they applied.
    /// </summary>
    /// <returns>-1 when everything was written; otherwise the index of the first refused write, and nothing changed.</returns>
    internal int TryWriteAll(IReadOnlyList<MemoryStateWrite> writes, bool checkOnly = false)
    {
        ArgumentNullException.ThrowIfNull(writes);
        lock (_gate)
        {
            // Versions as they would be after the earlier writes of this batch.
            var pending = new Dictionary<(string, string), long>();
            for (var i = 0; i < writes.Count; i++)
            {
                var w = writes[i];
                var key = (w.GrainId.ToString(), w.StateName);
                long current = pending.TryGetValue(key, out var p) ? p : _records.GetValueOrDefault(key)?.Version ?? 0;
                if (w.ExpectedVersion != current || w.ExpectedVersion < 0) return i;
                pending[key] = current + 1;
            }
            if (checkOnly) return -1;
            foreach (var w in writes)
                _records[(w.GrainId.ToString(), w.StateName)] = new Record(w.ExpectedVersion + 1, w.Payload);
            return -1;
        }
    }

    /// <summary>Payload null = tombstone. Immutable, so readers may hold one outside the lock.</summary>
    private sealed record Record(long Version, byte[]? Payload);
}

/// <summary>One state of an all-or-nothing write: <see cref="MemoryGrainStorage.TryWriteAll"/>.</summary>
internal sealed record MemoryStateWrite(GrainId GrainId, string StateName, long ExpectedVersion, byte[]? Payload);
