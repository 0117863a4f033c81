using BankGrains.Runtime.Cluster;
using BankGrains.Runtime.Membership;
using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Storage;
using Npgsql;
using Xunit;

namespace BankGrains.Runtime.Tests.Persistence;

/// <summary>In a cluster, a grain-state write commits only while its writer's membership row is not Dead.</summary>
public sealed class PostgresWriteFenceTests(PostgresDatabaseFixture database) : IClassFixture<PostgresDatabaseFixture>, IAsyncLifetime
{
    private const string Cluster = "fence";
    private readonly SiloAddress _writer = new("127.0.0.1", 30001, 7);
    private NpgsqlDataSource _dataSource = null!;
    private PostgresMembershipTable _membership = null!;

    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        _membership = new PostgresMembershipTable(_dataSource, Cluster);
        await _membership.InitializeAsync(CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        Assert.True(await _membership.InsertRowAsync(new MembershipEntry(_writer, "w", "h", SiloStatus.Active, now, now), 0));
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    [Fact]
    public async Task A_live_writer_writes_and_is_recorded_and_a_dead_one_is_refused_without_change()
    {
        var storage = new PostgresGrainStorage(_dataSource, Cluster, () => _writer);
        var grain = new GrainId("account", Guid.NewGuid().ToString("N"));
        var state = new GrainState<CounterState>(new CounterState { Value = 1 });
        await storage.WriteStateAsync("s", grain, state);
        Assert.Equal(_writer.ToString(), await WriterOfAsync(grain));

        var snapshot = await _membership.ReadAllAsync();
        Assert.True(await _membership.UpdateRowAsync(snapshot.Find(_writer)! with { Status = SiloStatus.Dead }, snapshot.Version));

        var etagBefore = state.ETag;
        state.State.Value = 2;
        await Assert.ThrowsAsync<SiloLeaseExpiredException>(() => storage.WriteStateAsync("s", grain, state));
        await Assert.ThrowsAsync<SiloLeaseExpiredException>(() =>
            storage.WriteStateAsync("s", new GrainId("account", "never-written"), new GrainState<CounterState>(new CounterState())));

        Assert.Equal(etagBefore, state.ETag);
        var stored = new GrainState<CounterState>(new CounterState());
        await new PostgresGrainStorage(_dataSource, Cluster).ReadStateAsync("s", grain, stored);
        Assert.Equal(1, stored.State.Value);
    }

    private async Task<string?> WriterOfAsync(GrainId grain)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT writer FROM grain_state WHERE service_id = @s AND grain_id = @g");
        cmd.Parameters.AddWithValue("s", Cluster);
        cmd.Parameters.AddWithValue("g", grain.ToString());
        return (string?)await cmd.ExecuteScalarAsync();
    }
}
