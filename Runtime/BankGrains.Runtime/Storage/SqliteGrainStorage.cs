using BankGrains.Runtime.Persistence;
using Microsoft.Data.Sqlite;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// Grain storage in a SQLite file (table grain_state), for a single-node deployment. Each write or
/// clear is one conditional statement (insert-if-absent, or update-where-version-matches), so the
/// compare-and-swap is atomic without an explicit transaction.
/// </summary>
public sealed class SqliteGrainStorage : IGrainStorage
{
    private const string Now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

    private const string InsertSql =
        $"INSERT INTO grain_state (service_id, grain_id, state_name, version, payload, updated_at) " +
        $"VALUES ($service, $grain, $state, 1, $payload, {Now}) " +
        $"ON CONFLICT (service_id, grain_id, state_name) DO NOTHING RETURNING version";

    private const string UpdateSql =
        $"UPDATE grain_state SET version = version + 1, payload = $payload, updated_at = {Now} " +
        $"WHERE service_id = $service AND grain_id = $grain AND state_name = $state AND version = $expected RETURNING version";

    private const string SelectSql =
        "SELECT version, payload FROM grain_state WHERE service_id = $service AND grain_id = $grain AND state_name = $state";

    private readonly SqliteDatabase _database;
    private readonly string _serviceId;

    public SqliteGrainStorage(SqliteDatabase database, string serviceId)
    {
        ArgumentNullException.ThrowIfNull(database);
        GrainStateCodec.ValidateServiceId(serviceId);
        _database = database;
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

        await using (var connection = await _database.OpenConnectionAsync().ConfigureAwait(false))
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = expectedETag is null ? InsertSql : UpdateSql;
            AddKey(cmd, stateName, grainId);
            cmd.Parameters.AddWithValue("$payload", (object?)payload ?? DBNull.Value);
            if (expectedETag is not null) cmd.Parameters.AddWithValue("$expected", expected);
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
        await using var connection = await _database.OpenConnectionAsync().ConfigureAwait(false);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = SelectSql;
        AddKey(cmd, stateName, grainId);
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        if (!await reader.ReadAsync().ConfigureAwait(false)) return (null, null);
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    private void AddKey(SqliteCommand cmd, string stateName, GrainId grainId)
    {
        cmd.Parameters.AddWithValue("$service", _serviceId);
        cmd.Parameters.AddWithValue("$grain", grainId.ToString());
        cmd.Parameters.AddWithValue("$state", stateName);
    }
}
