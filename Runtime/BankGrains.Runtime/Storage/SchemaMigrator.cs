using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// Applies the schema scripts embedded from sql/&lt;dialect&gt;/*.sql, in file-name order. Each script
/// not yet listed in schema_migrations runs in its own transaction together with the row that
/// records it, so a script is either fully applied and recorded or not at all.
/// </summary>
public static class SchemaMigrator
{
    public const string PostgresDialect = "postgres";
    public const string SqliteDialect = "sqlite";

    // Any fixed number works; it only has to be the same in every silo ("BankGrnM" in ASCII).
    private const long PostgresLockKey = 0x42616E6B47726E4D;

    private static readonly Lazy<IReadOnlyList<MigrationScript>> PostgresScripts = new(() => LoadScripts(PostgresDialect));
    private static readonly Lazy<IReadOnlyList<MigrationScript>> SqliteScripts = new(() => LoadScripts(SqliteDialect));

    /// <summary>
    /// Brings a PostgreSQL database up to date. Safe when several silos start together: each script's
    /// transaction first takes a transaction-scoped advisory lock, then re-checks schema_migrations.
    /// </summary>
    /// <returns>The scripts this call applied (empty when the database was already up to date).</returns>
    public static async Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var applied = new List<string>();
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        foreach (var script in PostgresScripts.Value)
        {
            await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, tx))
            {
                lockCmd.Parameters.AddWithValue("key", PostgresLockKey);
                await lockCmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            // The table is created by the first script, so its absence means nothing has run yet.
            var tableExists = await ScalarAsync(connection, tx, "SELECT to_regclass('schema_migrations') IS NOT NULL", ct).ConfigureAwait(false);
            if (tableExists is true && await IsRecordedAsync(connection, tx, script.Name, ct).ConfigureAwait(false))
            {
                await tx.CommitAsync(ct).ConfigureAwait(false);
                continue;
            }

            await using (var run = new NpgsqlCommand(script.Sql, connection, tx))
                await run.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (script_name, applied_at) VALUES (@name, now())", connection, tx))
            {
                record.Parameters.AddWithValue("name", script.Name);
                await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            await tx.CommitAsync(ct).ConfigureAwait(false);
            applied.Add(script.Name);
        }
        return applied;
    }

    /// <summary>
    /// Brings a SQLite database up to date. Each script runs in a BEGIN IMMEDIATE transaction, which
    /// takes the write lock up front, so two processes opening the same file apply each script once.
    /// </summary>
    /// <returns>The scripts this call applied (empty when the database was already up to date).</returns>
    public static async Task<IReadOnlyList<string>> ApplyAsync(SqliteDatabase database, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        var applied = new List<string>();
        // A raw connection: the database's own OpenConnectionAsync would wait for these very migrations.
        await using var connection = await database.OpenUninitializedConnectionAsync(ct).ConfigureAwait(false);
        foreach (var script in SqliteScripts.Value)
        {
            await using var tx = connection.BeginTransaction(deferred: false); // BEGIN IMMEDIATE
            var tableExists = await ScalarAsync(connection, tx,
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')", ct).ConfigureAwait(false);
            if (Convert.ToInt64(tableExists, System.Globalization.CultureInfo.InvariantCulture) == 1
                && await IsRecordedAsync(connection, tx, script.Name, ct).ConfigureAwait(false))
            {
                await tx.CommitAsync(ct).ConfigureAwait(false);
                continue;
            }

            await using (var run = connection.CreateCommand())
            {
                run.Transaction = tx;
                run.CommandText = script.Sql;
                await run.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            await using (var record = connection.CreateCommand())
            {
                record.Transaction = tx;
                record.CommandText = "INSERT INTO schema_migrations (script_name, applied_at) VALUES ($name, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))";
                record.Parameters.AddWithValue("$name", script.Name);
                await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            await tx.CommitAsync(ct).ConfigureAwait(false);
            applied.Add(script.Name);
        }
        return applied;
    }

    /// <summary>The embedded script names of a dialect ("postgres" or "sqlite"), in the order they apply.</summary>
    public static IReadOnlyList<string> ScriptNames(string dialect) => dialect switch
    {
        PostgresDialect => PostgresScripts.Value.Select(s => s.Name).ToArray(),
        SqliteDialect => SqliteScripts.Value.Select(s => s.Name).ToArray(),
        _ => throw new ArgumentException($"Unknown SQL dialect '{dialect}'.", nameof(dialect)),
    };

    private static IReadOnlyList<MigrationScript> LoadScripts(string dialect)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var prefix = $"sql/{dialect}/";
        var scripts = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var logical = resource.Replace('\\', '/');
            if (!logical.StartsWith(prefix, StringComparison.Ordinal) || !logical.EndsWith(".sql", StringComparison.OrdinalIgnoreCase))
                continue;
            var name = logical[prefix.Length..];
            if (name.Contains('/')) continue; // only the dialect folder itself, never nested folders
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            scripts.Add(new MigrationScript(name, reader.ReadToEnd()));
        }
        // A build that lost the embedded scripts must not start against an empty schema.
        if (scripts.Count == 0)
            throw new InvalidOperationException($"No schema scripts for '{dialect}' are embedded in {assembly.GetName().Name} (expected resources named {prefix}*.sql).");
        scripts.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return scripts;
    }

    private static async Task<bool> IsRecordedAsync(DbConnection connection, DbTransaction tx, string name, CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT COUNT(*) FROM schema_migrations WHERE script_name = @name";
        var p = cmd.CreateParameter();
        p.ParameterName = "@name";
        p.Value = name;
        cmd.Parameters.Add(p);
        var count = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return Convert.ToInt64(count, System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    private static async Task<object?> ScalarAsync(DbConnection connection, DbTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    private sealed record MigrationScript(string Name, string Sql);
}
