using Microsoft.Data.Sqlite;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// One SQLite database file shared by the SQLite providers. Every connection it opens is set up for
/// durability (WAL journal, synchronous=FULL: an acknowledged write survives power loss), waits for
/// a busy writer instead of failing, and enforces foreign keys. The schema is migrated once, on the
/// first connection or by <see cref="InitializeAsync"/>.
/// </summary>
public sealed class SqliteDatabase : IDisposable
{
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private volatile bool _initialized;

    /// <param name="path">The database file; its directory is created when missing.</param>
    /// <param name="busyTimeout">How long a statement waits for another writer's lock (default 30 s).</param>
    public SqliteDatabase(string path, TimeSpan? busyTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        BusyTimeout = busyTimeout ?? TimeSpan.FromSeconds(30);
        if (BusyTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(busyTimeout), "The busy timeout must be positive.");
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = (int)Math.Ceiling(BusyTimeout.TotalSeconds),
        }.ToString();
    }

    public string Path { get; }

    public TimeSpan BusyTimeout { get; }

    public string ConnectionString { get; }

    /// <summary>Creates the directory, switches the file to WAL and applies pending migrations. Runs once; later calls return at once.</summary>
    public async Task InitializeAsync(CancellationToken ct = default)
    {
        if (_initialized) return;
        await _initLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_initialized) return;
            var directory = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);

            await using (var connection = await OpenUninitializedConnectionAsync(ct).ConfigureAwait(false))
            await using (var cmd = connection.CreateCommand())
            {
                // WAL is a property of the file, so setting it once is enough; a file system that cannot
                // do WAL (no shared memory) answers with another mode, and we refuse to run without it.
                cmd.CommandText = "PRAGMA journal_mode=WAL;";
                var mode = (string?)await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                    throw new InvalidOperationException($"SQLite database '{Path}' cannot use WAL journal mode (got '{mode}').");
            }

            await SchemaMigrator.ApplyAsync(this, ct).ConfigureAwait(false);
            _initialized = true; // only after success: a failed start is retried by the next caller
        }
        finally
        {
            _initLock.Release();
        }
    }

    /// <summary>An open connection to the migrated database; dispose it to return it to the pool.</summary>
    public async Task<SqliteConnection> OpenConnectionAsync(CancellationToken ct = default)
    {
        await InitializeAsync(ct).ConfigureAwait(false);
        return await OpenUninitializedConnectionAsync(ct).ConfigureAwait(false);
    }

    internal async Task<SqliteConnection> OpenUninitializedConnectionAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            await using var cmd = connection.CreateCommand();
            // Per-connection settings: pooled connections keep them, but setting them again is cheap
            // and covers connections opened by the pool after a ClearPool.
            cmd.CommandText = $"PRAGMA synchronous=FULL; PRAGMA busy_timeout={(long)BusyTimeout.TotalMilliseconds}; PRAGMA foreign_keys=ON;";
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Closes the pooled connections to this file, so it can be moved, deleted or reopened cleanly.</summary>
    public void Dispose()
    {
        using var connection = new SqliteConnection(ConnectionString);
        SqliteConnection.ClearPool(connection);
    }
}
