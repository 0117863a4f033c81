using BankGrains.TestSupport;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace BankGrains.Api.Tests.Infrastructure;

/// <summary>
/// The API with its co-hosted silo, in memory, storing in a SQLite file inside a private temp folder
/// that lives as long as the factory (one per test class, through IClassFixture).
/// </summary>
public class ApiFactory : WebApplicationFactory<Program>
{
    private readonly TempDirectory _data = new("bankgrains-api-tests-");

    public string DataDirectory => _data.Path;

    /// <summary>
    /// How many grain states named <paramref name="stateName"/> ("customer", "account") are stored: read
    /// straight from the SQLite file, to prove that a rejected request stored nothing.
    /// </summary>
    public async Task<long> CountStoredStatesAsync(string stateName)
    {
        var path = Path.Combine(DataDirectory, "bankgrains.db");
        if (!File.Exists(path)) return 0;
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM grain_state WHERE state_name = $name AND payload IS NOT NULL";
        command.Parameters.AddWithValue("$name", stateName);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Host settings reach builder.Configuration before Program reads it for the storage choice.
        builder.UseSetting("Storage:DataDirectory", _data.Path);
        builder.UseSetting("ConnectionStrings:Postgres", "");
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _data.Dispose();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _data.Dispose();
        GC.SuppressFinalize(this);
    }
}
