using BankGrains.Runtime.Storage;
using BankGrains.TestSupport;
using Npgsql;
using Xunit;

namespace BankGrains.Runtime.Tests.Persistence;

public sealed class SchemaMigratorTests
{
    [Fact]
    public void Both_dialects_embed_the_same_numbered_scripts_starting_with_001_initial()
    {
        var postgres = SchemaMigrator.ScriptNames(SchemaMigrator.PostgresDialect);
        var sqlite = SchemaMigrator.ScriptNames(SchemaMigrator.SqliteDialect);

        Assert.Equal("001_initial.sql", postgres[0]);
        Assert.Equal(postgres, sqlite); // a change to one schema needs its twin in the other
        Assert.All(postgres, name => Assert.Matches(@"^\d{3}_[a-z0-9_]+\.sql$", name));
    }

    [Fact]
    public async Task Postgres_applying_twice_is_a_no_op()
    {
        var server = await PostgresServer.SharedAsync();
        await using var dataSource = NpgsqlDataSource.Create(await server.CreateDatabaseAsync("migrate_twice"));

        var first = await SchemaMigrator.ApplyAsync(dataSource);
        var second = await SchemaMigrator.ApplyAsync(dataSource);

        Assert.Equal(SchemaMigrator.ScriptNames(SchemaMigrator.PostgresDialect), first);
        Assert.Empty(second);
        Assert.Equal(first, await RecordedAsync(dataSource));
        await using var tables = dataSource.CreateCommand(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('grain_state', 'reminders', 'schema_migrations')");
        Assert.Equal(3L, await tables.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Postgres_concurrent_apply_calls_all_succeed_and_each_script_runs_once()
    {
        var server = await PostgresServer.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync("migrate_concurrently");
        var dataSources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(connectionString)).ToArray();
        try
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var runs = dataSources.Select(ds => Task.Run(async () =>
            {
                await start.Task;
                return await SchemaMigrator.ApplyAsync(ds);
            })).ToArray();
            start.SetResult();
            var applied = await Task.WhenAll(runs);

            // Between them the silos applied every script exactly once.
            Assert.Equal(SchemaMigrator.ScriptNames(SchemaMigrator.PostgresDialect), applied.SelectMany(a => a).Order(StringComparer.Ordinal));
            Assert.Equal(SchemaMigrator.ScriptNames(SchemaMigrator.PostgresDialect), await RecordedAsync(dataSources[0]));
        }
        finally
        {
            foreach (var ds in dataSources) await ds.DisposeAsync();
        }
    }

    [Fact]
    public async Task Sqlite_applying_twice_is_a_no_op()
    {
        using var directory = new TempDirectory();
        using var database = new SqliteDatabase(directory.Combine("twice.db"));

        var first = await SchemaMigrator.ApplyAsync(database);
        var second = await SchemaMigrator.ApplyAsync(database);
        await database.InitializeAsync(); // migrates again under the hood: still nothing to do

        Assert.Equal(SchemaMigrator.ScriptNames(SchemaMigrator.SqliteDialect), first);
        Assert.Empty(second);
        await using var connection = await database.OpenConnectionAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT group_concat(script_name, ',') FROM (SELECT script_name FROM schema_migrations ORDER BY script_name)";
        Assert.Equal(string.Join(',', first), await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Sqlite_two_databases_opening_one_file_together_apply_each_script_once()
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("nested", "shared.db");
        using var a = new SqliteDatabase(path);
        using var b = new SqliteDatabase(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = new[] { a, b, a, b }.Select(db => Task.Run(async () =>
        {
            await start.Task;
            return await SchemaMigrator.ApplyAsync(db);
        })).ToArray();
        start.SetResult();
        var applied = await Task.WhenAll(runs);

        Assert.Equal(SchemaMigrator.ScriptNames(SchemaMigrator.SqliteDialect), applied.SelectMany(x => x).Order(StringComparer.Ordinal));
    }

    private static async Task<List<string>> RecordedAsync(NpgsqlDataSource dataSource)
    {
        await using var cmd = dataSource.CreateCommand("SELECT script_name FROM schema_migrations ORDER BY script_name COLLATE \"C\"");
        await using var reader = await cmd.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        return names;
    }
}
