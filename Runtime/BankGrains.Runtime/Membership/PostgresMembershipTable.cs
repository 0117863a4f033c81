using BankGrains.Runtime.Storage;
using Npgsql;
using NpgsqlTypes;

namespace BankGrains.Runtime.Membership;

/// <summary>
/// The membership table in PostgreSQL (tables membership_version and membership, sql/postgres/002),
/// shared by every silo of a cluster and by several clusters through cluster_id.
/// </summary>
/// <remarks>
/// Every change but a heartbeat runs in one transaction that first moves the cluster's version row
/// from the expected version to the next (<c>UPDATE … WHERE version = @expected</c>): zero rows
/// updated means someone else changed the table, and the transaction is rolled back. Because the
/// version row is always the first row a change locks, concurrent changes queue on it and cannot
/// deadlock. Reads are a single statement, hence one consistent snapshot.
/// Errors: every <see cref="NpgsqlException"/> (unreachable server, timeout, missing schema…) comes out
/// wrapped in <see cref="MembershipTableUnavailableException"/>; nothing is retried here, the
/// membership service retries on its own schedule.
/// </remarks>
public sealed class PostgresMembershipTable : IMembershipTable
{
    private const string KeyCondition = "cluster_id = @cluster AND address = @address AND port = @port AND generation = @generation";

    private const string InitializeSql =
        "INSERT INTO membership_version (cluster_id, version, updated_at) VALUES (@cluster, 0, now()) ON CONFLICT (cluster_id) DO NOTHING";

    // A LEFT JOIN so an initialised but empty cluster still yields its version; no row at all means
    // the cluster was never initialised.
    private const string ReadAllSql =
        "SELECT v.version, m.address, m.port, m.generation, m.silo_name, m.host_name, m.status, m.start_time, m.iamalive_time, m.suspicions::text " +
        "FROM membership_version v LEFT JOIN membership m ON m.cluster_id = v.cluster_id WHERE v.cluster_id = @cluster";

    private const string BumpVersionSql =
        "UPDATE membership_version SET version = version + 1, updated_at = now() WHERE cluster_id = @cluster AND version = @expected";

    private const string InsertSql =
        "INSERT INTO membership (cluster_id, address, port, generation, silo_name, host_name, status, start_time, iamalive_time, suspicions) " +
        "VALUES (@cluster, @address, @port, @generation, @silo_name, @host_name, @status, @start_time, @iamalive_time, @suspicions) " +
        "ON CONFLICT (cluster_id, address, port, generation) DO NOTHING";

    private const string UpdateSql =
        "UPDATE membership SET silo_name = @silo_name, host_name = @host_name, status = @status, start_time = @start_time, " +
        "iamalive_time = GREATEST(iamalive_time, @iamalive_time), suspicions = @suspicions WHERE " + KeyCondition;

    private const string IAmAliveSql =
        "UPDATE membership SET iamalive_time = GREATEST(iamalive_time, @iamalive_time) WHERE " + KeyCondition;

    private const string LockVersionSql = "SELECT version FROM membership_version WHERE cluster_id = @cluster FOR UPDATE";

    private const string DeleteDefunctSql =
        "DELETE FROM membership WHERE cluster_id = @cluster AND status = 'Dead' AND iamalive_time < @cutoff";

    private const string BumpLockedVersionSql =
        "UPDATE membership_version SET version = version + 1, updated_at = now() WHERE cluster_id = @cluster";

    // The membership rows go with it (ON DELETE CASCADE), in the same statement.
    private const string DeleteClusterSql = "DELETE FROM membership_version WHERE cluster_id = @cluster";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _clusterId;

    /// <param name="dataSource">A data source for a database migrated with <see cref="SchemaMigrator"/>.
    /// Its connection string's Timeout and Command Timeout bound how long a call can hang when the
    /// server is unreachable.</param>
    public PostgresMembershipTable(NpgsqlDataSource dataSource, string clusterId)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentException.ThrowIfNullOrEmpty(clusterId);
        _dataSource = dataSource;
        _clusterId = clusterId;
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => RunAsync("initialise", async () =>
    {
        await using var cmd = _dataSource.CreateCommand(InitializeSql);
        AddCluster(cmd);
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return true;
    });

    public Task<MembershipSnapshot> ReadAllAsync() => RunAsync("read", async () =>
    {
        await using var cmd = _dataSource.CreateCommand(ReadAllSql);
        AddCluster(cmd);
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        long? version = null;
        var entries = new List<MembershipEntry>();
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            version = reader.GetInt64(0);
            if (reader.IsDBNull(1)) continue; // the cluster has no rows
            entries.Add(new MembershipEntry(
                new SiloAddress(reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3)),
                reader.GetString(4),
                reader.GetString(5),
                ParseStatus(reader.GetString(6)),
                reader.GetFieldValue<DateTimeOffset>(7),
                reader.GetFieldValue<DateTimeOffset>(8),
                SuspicionsJson.Deserialize(reader.GetString(9))));
        }
        return version is { } v ? new MembershipSnapshot(v, entries) : throw NotInitialized(_clusterId);
    });

    public Task<bool> InsertRowAsync(MembershipEntry entry, long expectedVersion)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return ChangeAsync("insert", expectedVersion, entry, InsertSql);
    }

    public Task<bool> UpdateRowAsync(MembershipEntry entry, long expectedVersion)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return ChangeAsync("update", expectedVersion, entry, UpdateSql);
    }

    public Task UpdateIAmAliveAsync(SiloAddress silo, DateTimeOffset at)
    {
        if (silo.IsDefault) throw new ArgumentException("A heartbeat needs a silo address.", nameof(silo));
        return RunAsync("heartbeat", async () =>
        {
            await using var cmd = _dataSource.CreateCommand(IAmAliveSql);
            AddKey(cmd, silo);
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("iamalive_time", MembershipTime.Normalize(at)));
            await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
            return true;
        });
    }

    public Task<int> CleanupDefunctEntriesAsync(DateTimeOffset olderThan) => RunAsync("clean up", async () =>
    {
        await using var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync().ConfigureAwait(false);
        // The version row first, like every other change, so this cannot deadlock with an update of a
        // row it is about to delete.
        await using (var lockCmd = new NpgsqlCommand(LockVersionSql, connection, tx))
        {
            AddCluster(lockCmd);
            if (await lockCmd.ExecuteScalarAsync().ConfigureAwait(false) is null) return 0; // not initialised: nothing to clean
        }

        int deleted;
        await using (var delete = new NpgsqlCommand(DeleteDefunctSql, connection, tx))
        {
            AddCluster(delete);
            delete.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("cutoff", MembershipTime.Normalize(olderThan)));
            deleted = await delete.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        if (deleted == 0)
        {
            await tx.RollbackAsync().ConfigureAwait(false);
            return 0;
        }

        await using (var bump = new NpgsqlCommand(BumpLockedVersionSql, connection, tx))
        {
            AddCluster(bump);
            await bump.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        await tx.CommitAsync().ConfigureAwait(false);
        return deleted;
    });

    public Task DeleteClusterAsync() => RunAsync("delete", async () =>
    {
        await using var cmd = _dataSource.CreateCommand(DeleteClusterSql);
        AddCluster(cmd);
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
        return true;
    });

    /// <summary>One compare-and-swap: bump the version from expected, then apply the row change; either step finding nothing rolls both back.</summary>
    private Task<bool> ChangeAsync(string operation, long expectedVersion, MembershipEntry entry, string rowSql) => RunAsync(operation, async () =>
    {
        await using var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync().ConfigureAwait(false);
        await using (var bump = new NpgsqlCommand(BumpVersionSql, connection, tx))
        {
            AddCluster(bump);
            bump.Parameters.Add(new NpgsqlParameter<long>("expected", expectedVersion));
            if (await bump.ExecuteNonQueryAsync().ConfigureAwait(false) == 0)
            {
                await tx.RollbackAsync().ConfigureAwait(false);
                return false;
            }
        }

        await using (var change = new NpgsqlCommand(rowSql, connection, tx))
        {
            AddKey(change, entry.Silo);
            change.Parameters.Add(new NpgsqlParameter<string>("silo_name", entry.SiloName));
            change.Parameters.Add(new NpgsqlParameter<string>("host_name", entry.HostName));
            change.Parameters.Add(new NpgsqlParameter<string>("status", entry.Status.ToString()));
            change.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("start_time", entry.StartTime));
            change.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("iamalive_time", entry.IAmAliveTime));
            change.Parameters.Add(new NpgsqlParameter<string>("suspicions", SuspicionsJson.Serialize(entry.Suspicions)) { NpgsqlDbType = NpgsqlDbType.Jsonb });
            if (await change.ExecuteNonQueryAsync().ConfigureAwait(false) == 0)
            {
                await tx.RollbackAsync().ConfigureAwait(false);
                return false;
            }
        }

        // A failure here leaves the outcome unknown (the commit may have happened): the wrapper's
        // exception says so, and the caller re-reads.
        await tx.CommitAsync().ConfigureAwait(false);
        return true;
    });

    private async Task<T> RunAsync<T>(string operation, Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new MembershipTableUnavailableException(_clusterId,
                $"The membership table of cluster '{_clusterId}' could not {operation}: {e.Message}", e);
        }
    }

    private void AddCluster(NpgsqlCommand cmd) => cmd.Parameters.Add(new NpgsqlParameter<string>("cluster", _clusterId));

    private void AddKey(NpgsqlCommand cmd, SiloAddress silo)
    {
        AddCluster(cmd);
        cmd.Parameters.Add(new NpgsqlParameter<string>("address", silo.Host));
        cmd.Parameters.Add(new NpgsqlParameter<int>("port", silo.Port));
        cmd.Parameters.Add(new NpgsqlParameter<int>("generation", silo.Generation));
    }

    // Enum.Parse would also accept numbers and other casing; the column holds exactly these names.
    private static SiloStatus ParseStatus(string text) => text switch
    {
        nameof(SiloStatus.Joining) => SiloStatus.Joining,
        nameof(SiloStatus.Active) => SiloStatus.Active,
        nameof(SiloStatus.ShuttingDown) => SiloStatus.ShuttingDown,
        nameof(SiloStatus.Dead) => SiloStatus.Dead,
        _ => throw new InvalidDataException($"Unknown silo status '{text}' in the membership table."),
    };

    internal static InvalidOperationException NotInitialized(string clusterId)
        => new($"The membership table of cluster '{clusterId}' has no version row: call InitializeAsync first (or the cluster was deleted).");
}
