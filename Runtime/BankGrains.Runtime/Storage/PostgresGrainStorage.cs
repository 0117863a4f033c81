using BankGrains.Runtime.Membership;
using BankGrains.Runtime.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// Grain storage in PostgreSQL (table grain_state, payload as jsonb), shared by all silos of a
/// service. Each write or clear is one conditional statement — INSERT … ON CONFLICT DO NOTHING for
/// a first write, UPDATE … WHERE version = expected otherwise — so the compare-and-swap is atomic
/// under any isolation level and needs no explicit transaction.
/// In a cluster the statement is also fenced by the writer's own membership row: it writes only if
/// that row is not Dead, and holds a share lock on it until commit, so a declaration of death waits
/// for writes in flight and every later write by that silo is refused. A silo paused past its
/// death (GC, SIGSTOP, a frozen VM) therefore cannot write when it wakes, whatever it believes.
/// </summary>
public sealed class PostgresGrainStorage : VersionedSqlGrainStorage
{
    private const string WriterIsAlive =
        "EXISTS (SELECT 1 FROM membership m WHERE m.cluster_id = @service AND m.address = @writer_host AND m.port = @writer_port " +
        "AND m.generation = @writer_generation AND m.status <> 'Dead' FOR SHARE)";

    private const string InsertSql =
        "INSERT INTO grain_state (service_id, grain_id, state_name, version, payload, updated_at, writer) " +
        "SELECT @service, @grain, @state, 1, @payload, now(), @writer WHERE {0} " +
        "ON CONFLICT (service_id, grain_id, state_name) DO NOTHING RETURNING version";

    private const string UpdateSql =
        "UPDATE grain_state SET version = version + 1, payload = @payload, updated_at = now(), writer = @writer " +
        "WHERE service_id = @service AND grain_id = @grain AND state_name = @state AND version = @expected AND {0} RETURNING version";

    private const string WriterStatusSql =
        "SELECT status FROM membership WHERE cluster_id = @service AND address = @writer_host AND port = @writer_port AND generation = @writer_generation";

    private const string SelectSql =
        "SELECT version, payload::text FROM grain_state WHERE service_id = @service AND grain_id = @grain AND state_name = @state";

    private readonly NpgsqlDataSource _dataSource;
    private readonly Func<SiloAddress?>? _writer;

    /// <param name="dataSource">A data source for a database migrated with <see cref="SchemaMigrator"/>.</param>
    /// <param name="writer">In a cluster: this silo's identity (null until it is known); writes are fenced by its membership row.</param>
    public PostgresGrainStorage(NpgsqlDataSource dataSource, string serviceId, Func<SiloAddress?>? writer = null) : base(serviceId)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
        _writer = writer;
    }

    protected override async Task<long?> TrySwapAsync(string stateName, GrainId grainId, long? expectedVersion, string? payload)
    {
        var writer = _writer?.Invoke();
        var fence = writer is null ? "TRUE" : WriterIsAlive;
        await using var cmd = _dataSource.CreateCommand(string.Format(expectedVersion is null ? InsertSql : UpdateSql, fence));
        AddKey(cmd, stateName, grainId);
        cmd.Parameters.Add(new NpgsqlParameter("payload", NpgsqlDbType.Jsonb) { Value = (object?)payload ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter<string>("writer", NpgsqlDbType.Text) { TypedValue = writer?.ToString() });
        if (writer is { } w) AddWriter(cmd, w);
        if (expectedVersion is { } expected) cmd.Parameters.Add(new NpgsqlParameter<long>("expected", expected));
        return await cmd.ExecuteScalarAsync().ConfigureAwait(false) as long?;
    }

    /// <summary>A fenced writer whose row says Dead was refused for that reason, not for a version conflict.</summary>
    protected override async Task<Exception> RefusalAsync(string operation, string stateName, GrainId grainId, string? expectedETag)
    {
        if (_writer?.Invoke() is { } writer && !await IsAliveAsync(writer).ConfigureAwait(false))
            return new Cluster.SiloLeaseExpiredException($"Silo {writer} is dead in the membership table; its write of {grainId} was refused.");
        return await base.RefusalAsync(operation, stateName, grainId, expectedETag).ConfigureAwait(false);
    }

    private async Task<bool> IsAliveAsync(SiloAddress writer)
    {
        await using var cmd = _dataSource.CreateCommand(WriterStatusSql);
        cmd.Parameters.Add(new NpgsqlParameter<string>("service", ServiceId));
        AddWriter(cmd, writer);
        return await cmd.ExecuteScalarAsync().ConfigureAwait(false) is string status && status != "Dead";
    }

    private static void AddWriter(NpgsqlCommand cmd, SiloAddress writer)
    {
        cmd.Parameters.Add(new NpgsqlParameter<string>("writer_host", writer.Host));
        cmd.Parameters.Add(new NpgsqlParameter<int>("writer_port", writer.Port));
        cmd.Parameters.Add(new NpgsqlParameter<int>("writer_generation", writer.Generation));
    }

    protected override async Task<(long? Version, string? Payload)> SelectAsync(string stateName, GrainId grainId)
    {
        await using var cmd = _dataSource.CreateCommand(SelectSql);
        AddKey(cmd, stateName, grainId);
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        if (!await reader.ReadAsync().ConfigureAwait(false)) return (null, null);
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    private void AddKey(NpgsqlCommand cmd, string stateName, GrainId grainId)
    {
        cmd.Parameters.Add(new NpgsqlParameter<string>("service", ServiceId));
        cmd.Parameters.Add(new NpgsqlParameter<string>("grain", grainId.ToString()));
        cmd.Parameters.Add(new NpgsqlParameter<string>("state", stateName));
    }
}
