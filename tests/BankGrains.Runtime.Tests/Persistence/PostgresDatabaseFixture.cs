using BankGrains.Runtime.Storage;
using BankGrains.TestSupport;
using Npgsql;
using Xunit;

namespace BankGrains.Runtime.Tests.Persistence;

/// <summary>
/// One fresh, migrated database per test class on the process-wide PostgreSQL server, so classes
/// never see each other's rows. Tests in a class keep apart by using their own service ids and grains.
/// </summary>
public sealed class PostgresDatabaseFixture : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.SharedAsync();
        ConnectionString = await server.CreateDatabaseAsync("persistence");
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
        await SchemaMigrator.ApplyAsync(dataSource);
    }

    // The shared server and its databases go when the test process exits.
    public Task DisposeAsync() => Task.CompletedTask;
}
