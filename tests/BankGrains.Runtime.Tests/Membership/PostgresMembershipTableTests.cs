using System.Diagnostics;
using BankGrains.Runtime.Membership;
using BankGrains.Runtime.Tests.Persistence;
using BankGrains.TestSupport;
using Npgsql;
using Xunit;

namespace BankGrains.Runtime.Tests.Membership;

public sealed class PostgresMembershipTableTests(PostgresDatabaseFixture database)
    : MembershipTableContractTests, IClassFixture<PostgresDatabaseFixture>
{
    private readonly List<NpgsqlDataSource> _dataSources = [];

    // A data source per table, as each silo has its own connection pool.
    protected override IMembershipTable CreateTable(string clusterId) => new PostgresMembershipTable(NewDataSource(database.ConnectionString), clusterId);

    protected override async Task CleanupAsync()
    {
        foreach (var dataSource in _dataSources) await dataSource.DisposeAsync();
        _dataSources.Clear();
    }

    [Fact]
    public async Task The_table_survives_a_new_data_source()
    {
        var entry = Entry(Silo(1), SiloStatus.Active, suspicions: [new Suspicion(Silo(2), T0.AddTicks(12_345))]);
        Assert.True(await Table.InsertRowAsync(entry, 0));
        await Table.UpdateIAmAliveAsync(entry.Silo, T0.AddSeconds(1));
        var written = await Table.ReadAllAsync();
        await CleanupAsync(); // every pool closed: nothing cached on the client side

        await using var fresh = NpgsqlDataSource.Create(database.ConnectionString);
        var reopened = new PostgresMembershipTable(fresh, ClusterId);

        Assert.Equal(written, await reopened.ReadAllAsync());
        Assert.Equal(entry with { IAmAliveTime = T0.AddSeconds(1) }, Assert.Single(written.Entries));
    }

    [Fact]
    public async Task Rows_are_stored_in_the_documented_columns()
    {
        var entry = Entry(new SiloAddress("10.1.2.3", 11111, 42), SiloStatus.ShuttingDown,
            suspicions: [new Suspicion(new SiloAddress("::1", 30000, 7), new DateTimeOffset(2025, 1, 31, 12, 0, 0, TimeSpan.Zero).AddTicks(1_234_560))]);
        Assert.True(await Table.InsertRowAsync(entry, 0));

        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        await using var cmd = dataSource.CreateCommand(
            "SELECT m.address, m.port, m.generation, m.status, m.suspicions::text, v.version " +
            "FROM membership m JOIN membership_version v USING (cluster_id) WHERE m.cluster_id = @c");
        cmd.Parameters.AddWithValue("c", ClusterId);
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("10.1.2.3", reader.GetString(0));
        Assert.Equal(11111, reader.GetInt32(1));
        Assert.Equal(42, reader.GetInt32(2));
        Assert.Equal("ShuttingDown", reader.GetString(3));
        Assert.Equal("[{\"at\": \"2025-01-31T12:00:00.123456Z\", \"suspecter\": \"[::1]:30000@7\"}]", reader.GetString(4));
        Assert.Equal(1L, reader.GetInt64(5));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task An_unreachable_database_gives_MembershipTableUnavailableException_promptly()
    {
        var closedPort = FreePort.Next(); // free a moment ago, and nobody listens on it
        var connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = closedPort, Timeout = 2, CommandTimeout = 2 }.ToString();
        var table = new PostgresMembershipTable(NewDataSource(connectionString), ClusterId);
        var entry = Entry(Silo(1));
        var clock = Stopwatch.StartNew();

        Func<Task>[] calls =
        [
            () => table.InitializeAsync(CancellationToken.None),
            table.ReadAllAsync,
            () => table.InsertRowAsync(entry, 0),
            () => table.UpdateRowAsync(entry, 0),
            () => table.UpdateIAmAliveAsync(entry.Silo, T0),
            () => table.CleanupDefunctEntriesAsync(T0),
            table.DeleteClusterAsync,
        ];
        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<MembershipTableUnavailableException>(call);
            Assert.IsAssignableFrom<NpgsqlException>(error.InnerException);
            Assert.Equal(ClusterId, error.ClusterId);
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_database_without_the_schema_gives_MembershipTableUnavailableException_with_the_server_error()
    {
        var server = await PostgresServer.SharedAsync();
        var table = new PostgresMembershipTable(NewDataSource(await server.CreateDatabaseAsync("membership_unmigrated")), ClusterId);

        var error = await Assert.ThrowsAsync<MembershipTableUnavailableException>(() => table.InitializeAsync(CancellationToken.None));

        Assert.Equal("42P01", Assert.IsType<PostgresException>(error.InnerException).SqlState); // undefined_table
    }

    private NpgsqlDataSource NewDataSource(string connectionString)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        _dataSources.Add(dataSource);
        return dataSource;
    }
}
