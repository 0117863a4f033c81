using BankGrains.Runtime.Hosting;
using BankGrains.Runtime.Testing;
using BankGrains.Runtime.Tests.Grains;
using BankGrains.TestSupport;
using Xunit;

namespace BankGrains.Runtime.Tests.Execution;

/// <summary>
/// The silo on the real durable stores: the schema is applied at start-up, and grain state and
/// reminders outlive a crashed silo, with nothing shared in memory between the old and new silo.
/// </summary>
public sealed class DurableSiloTests
{
    private static readonly (string, string)[] FastReminders =
    [
        ("Runtime:Reminders:MinimumPeriod", "00:00:00.050"),
        ("Runtime:Reminders:RefreshPeriod", "00:00:00.200"),
    ];

    [Fact]
    public async Task On_sqlite_state_and_reminders_survive_a_killed_silo()
    {
        using var data = new TempDirectory();
        await RunScenarioAsync(silo => silo.UseSqliteStorage(data.Combine("bankgrains.db")));
        Assert.True(File.Exists(data.Combine("bankgrains.db")));
    }

    [Fact]
    public async Task On_postgres_state_and_reminders_survive_a_killed_silo()
    {
        var server = await PostgresServer.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync("silo");
        await RunScenarioAsync(silo => silo.UsePostgresStorage(connectionString));
    }

    private static async Task RunScenarioAsync(Action<SiloBuilder> useStorage)
    {
        await using var cluster = await Clusters.StartAsync(options => options.ConfigureSilo += useStorage, FastReminders);
        await cluster.GrainFactory.GetGrain<IStateGrain>("kept").SetValueAsync(17);
        await cluster.GrainFactory.GetGrain<IReminderGrain>("ticking").StartAsync(periodMs: 100);
        Assert.True(await Clusters.EventuallyAsync(async () => await cluster.GrainFactory.GetGrain<IReminderGrain>("ticking").TicksAsync() >= 1));

        await cluster.RestartSiloAsync(cluster.Silos[0]);

        Assert.Equal(17, await cluster.GrainFactory.GetGrain<IStateGrain>("kept").GetValueAsync());
        var ticks = await cluster.GrainFactory.GetGrain<IReminderGrain>("ticking").TicksAsync();
        Assert.True(ticks >= 1, "reminder ticks written before the crash were lost");
        Assert.True(await Clusters.EventuallyAsync(async () =>
            await cluster.GrainFactory.GetGrain<IReminderGrain>("ticking").TicksAsync() >= ticks + 2), "reminder did not fire after restart");
    }
}
