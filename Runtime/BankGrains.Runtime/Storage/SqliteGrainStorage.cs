using BankGrains.Runtime.Persistence;
using Microsoft.Data.Sqlite;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// Grain storage in a SQLite file (table grain_state), for a single-node deployment. Each write or
/// clear is one conditional statement (insert-if-absent, or update-where-version-matches), so the
/// compare-and-swap is atomic without an explicit transaction.
/// </summary>
public sealed class SqliteGrainStorage : VersionedSqlGrainStorage
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

    public SqliteGrainStorage(SqliteDatabase database, string serviceId) : base(serviceId)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
    }

    protected override async Task<long?> TrySwapAsync(string stateName, GrainId grainId, long? expectedVersion, string? payload)
    {
        await using var connection = await _database.OpenConnectionAsync().ConfigureAwait(false);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = expectedVersion is null ? InsertSql : UpdateSql;
        AddKey(cmd, stateName, grainId);
        cmd.Parameters.AddWithValue("$payload", (object?)payload ?? DBNull.Value);
        if (expectedVersion is { } expected) cmd.Parameters.AddWithValue("$expected", expected);
        return await cmd.ExecuteScalarAsync().ConfigureAwait(false) as long?;
    }

    protected override async Task<(long? Version, string? Payload)> SelectAsync(string stateName, GrainId grainId)
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
        cmd.Parameters.AddWithValue("$service", ServiceId);
        cmd.Parameters.AddWithValue("$grain", grainId.ToString());
        cmd.Parameters.AddWithValue("$state", stateName);
    }
}
