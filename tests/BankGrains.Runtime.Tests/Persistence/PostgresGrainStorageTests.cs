using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Storage;
using Npgsql;
using Xunit;

namespace BankGrains.Runtime.Tests.Persistence;

public sealed class PostgresGrainStorageTests(PostgresDatabaseFixture database)
    : DurableGrainStorageConformanceTests, IClassFixture<PostgresDatabaseFixture>
{
    private readonly List<NpgsqlDataSource> _dataSources = [];

    protected override Task<IGrainStorage> CreateStorageAsync(string serviceId)
    {
        var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        _dataSources.Add(dataSource);
        return Task.FromResult<IGrainStorage>(new PostgresGrainStorage(dataSource, serviceId));
    }

    protected override async Task<IGrainStorage> ReopenAsync(string serviceId)
    {
        await CloseAllAsync(); // new data source, new connections: nothing cached on the client side
        return await CreateStorageAsync(serviceId);
    }

    protected override Task CleanupAsync() => CloseAllAsync();

    private async Task CloseAllAsync()
    {
        foreach (var dataSource in _dataSources) await dataSource.DisposeAsync();
        _dataSources.Clear();
    }
}
