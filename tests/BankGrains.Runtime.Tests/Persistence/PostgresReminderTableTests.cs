using BankGrains.Runtime.Reminders;
using BankGrains.Runtime.Storage;
using Npgsql;
using Xunit;

namespace BankGrains.Runtime.Tests.Persistence;

public sealed class PostgresReminderTableTests(PostgresDatabaseFixture database)
    : DurableReminderTableConformanceTests, IClassFixture<PostgresDatabaseFixture>
{
    private readonly List<NpgsqlDataSource> _dataSources = [];

    protected override Task<IReminderTable> CreateTableAsync(string serviceId)
    {
        var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        _dataSources.Add(dataSource);
        return Task.FromResult<IReminderTable>(new PostgresReminderTable(dataSource, serviceId));
    }

    protected override async Task<IReminderTable> ReopenAsync(string serviceId)
    {
        await CloseAllAsync();
        return await CreateTableAsync(serviceId);
    }

    protected override Task CleanupAsync() => CloseAllAsync();

    private async Task CloseAllAsync()
    {
        foreach (var dataSource in _dataSources) await dataSource.DisposeAsync();
        _dataSources.Clear();
    }
}
