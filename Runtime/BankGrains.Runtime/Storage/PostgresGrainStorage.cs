using BankGrains.Runtime.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// Grain storage in PostgreSQL (table grain_state, payload as jsonb), shared by all silos of a
/// service. Each write or clear is one conditional statement — INSERT … ON CONFLICT DO NOTHING for
/// a first write, UPDATE … WHERE version = expected otherwise — so the compare-and-swap is atomic
/// under any isolation level and needs no explicit transaction or lock.
/// </summary>
public sealed class PostgresGrainStorage : IGrainStorage
{
    private const string InsertSql =
        "INSERT INTO grain_state (service_id, grain_id, state_name, version, payload, updated_at) " +
        "VALUES (@service, @grain, @state, 1, @payload, now()) " +
        "ON CONFLICT (service_id, grain_id, state_name) DO NOTHING RETURNING version";

    private const string UpdateSql =
        "UPDATE grain_state SET version = version + 1, payload = @payload, updated_at = now() " +
        "WHERE service_id = @service AND grain_id = @grain AND state_name = @state AND version = @expected RETURNING version";

    private const string SelectSql =
        "SELECT version, payload::text FROM grain_state WHERE service_id = @service AND grain_id = @grain AND state_name = @state";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _serviceId;

    /// <param name="dataSource">A data source for a database migrated with <see cref="SchemaMigrator"/>.</param>
    public PostgresGrainStorage(NpgsqlDataSource dataSource, string serviceId)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        GrainStateCodec.ValidateServiceId(serviceId);
        _dataSource = dataSource;
        _serviceId = serviceId;
    }

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

    private async Task<long> CompareAndSwapAsync(string operation, string stateName, GrainId grainId, string? expectedETag, string? payload)
    {
        long expected = 0;
        if (expectedETag is not null && !GrainStateCodec.TryParseETag(expectedETag, out expected))
            throw await ConflictAsync(operation, stateName, grainId, expectedETag).ConfigureAwait(false);

        await using (var cmd = _dataSource.CreateCommand(expectedETag is null ? InsertSql : UpdateSql))
        {
            AddKey(cmd, stateName, grainId);
            cmd.Parameters.Add(new NpgsqlParameter("payload", NpgsqlDbType.Jsonb) { Value = (object?)payload ?? DBNull.Value });
            if (expectedETag is not null) cmd.Parameters.Add(new NpgsqlParameter<long>("expected", expected));
            if (await cmd.ExecuteScalarAsync().ConfigureAwait(false) is long version) return version;
        }
        throw await ConflictAsync(operation, stateName, grainId, expectedETag).ConfigureAwait(false);
    }

    /// <summary>Reads what is stored now, only to say in the exception why the swap was refused.</summary>
    private async Task<InconsistentStateException> ConflictAsync(string operation, string stateName, GrainId grainId, string? expectedETag)
    {
        var (version, payload) = await SelectAsync(stateName, grainId).ConfigureAwait(false);
        return GrainStateCodec.Conflict(operation, stateName, grainId, expectedETag, version, version is not null && payload is null);
    }

    private async Task<(long? Version, string? Payload)> SelectAsync(string stateName, GrainId grainId)
    {
        await using var cmd = _dataSource.CreateCommand(SelectSql);
        AddKey(cmd, stateName, grainId);
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        if (!await reader.ReadAsync().ConfigureAwait(false)) return (null, null);
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    private void AddKey(NpgsqlCommand cmd, string stateName, GrainId grainId)
    {
        cmd.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        cmd.Parameters.Add(new NpgsqlParameter<string>("grain", grainId.ToString()));
        cmd.Parameters.Add(new NpgsqlParameter<string>("state", stateName));
    }
}
