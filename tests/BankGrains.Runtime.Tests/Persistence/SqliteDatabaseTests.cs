using BankGrains.Runtime.Storage;
using BankGrains.TestSupport;
using Xunit;

namespace BankGrains.Runtime.Tests.Persistence;

public sealed class SqliteDatabaseTests
{
    [Fact]
    public async Task Connections_are_durable_wal_with_busy_timeout_and_foreign_keys_and_the_folder_is_created()
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("does", "not", "exist", "yet.db");
        using var database = new SqliteDatabase(path, busyTimeout: TimeSpan.FromSeconds(7));

        await using var connection = await database.OpenConnectionAsync();

        Assert.True(File.Exists(path));
        Assert.Equal("wal", await PragmaAsync(connection, "journal_mode"));
        Assert.Equal(2L, await PragmaAsync(connection, "synchronous")); // 2 = FULL
        Assert.Equal(1L, await PragmaAsync(connection, "foreign_keys"));
        Assert.Equal(7000L, await PragmaAsync(connection, "busy_timeout"));
    }

    [Fact]
    public async Task Initialize_migrates_once_and_later_calls_are_free()
    {
        using var directory = new TempDirectory();
        using var database = new SqliteDatabase(directory.Combine("init.db"));

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => database.InitializeAsync()));
        await database.InitializeAsync();

        await using var connection = await database.OpenConnectionAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM schema_migrations";
        Assert.Equal((long)SchemaMigrator.ScriptNames(SchemaMigrator.SqliteDialect).Count, await cmd.ExecuteScalarAsync());
        cmd.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('grain_state', 'reminders')";
        Assert.Equal(2L, await cmd.ExecuteScalarAsync());
    }

    private static async Task<object?> PragmaAsync(Microsoft.Data.Sqlite.SqliteConnection connection, string name)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"PRAGMA {name}";
        return await cmd.ExecuteScalarAsync();
    }
}
