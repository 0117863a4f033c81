using BankGrains.Runtime.Tests.Grains;
using Xunit;

namespace BankGrains.Runtime.Tests.Execution;

public sealed class ReminderTests
{
    private static readonly (string, string)[] FastReminders =
    [
        ("Runtime:Reminders:MinimumPeriod", "00:00:00.050"),
        ("Runtime:Reminders:RefreshPeriod", "00:00:00.200"),
    ];

    [Fact]
    public async Task A_reminder_fires_repeatedly_and_stops_when_unregistered()
    {
        await using var cluster = await Clusters.StartAsync(FastReminders);
        var grain = cluster.GrainFactory.GetGrain<IReminderGrain>("r1");
        await grain.StartAsync(periodMs: 100);

        Assert.True(await Clusters.EventuallyAsync(async () => await grain.TicksAsync() >= 3), "reminder did not fire");

        await grain.StopAsync();
        var ticks = await grain.TicksAsync();
        await Task.Delay(400);
        Assert.InRange(await grain.TicksAsync(), ticks, ticks + 1); // at most one tick already in flight
        Assert.Empty(await cluster.Reminders.ReadAllAsync());
    }

    [Fact]
    public async Task A_reminder_keeps_firing_after_the_silo_is_killed_and_restarted()
    {
        await using var cluster = await Clusters.StartAsync(FastReminders);
        await cluster.GrainFactory.GetGrain<IReminderGrain>("r2").StartAsync(periodMs: 100);
        Assert.True(await Clusters.EventuallyAsync(async () => await cluster.GrainFactory.GetGrain<IReminderGrain>("r2").TicksAsync() >= 1));

        await cluster.RestartSiloAsync(cluster.Silos[0]);
        var afterRestart = await cluster.GrainFactory.GetGrain<IReminderGrain>("r2").TicksAsync();

        // Nobody calls the grain: the new silo's reminder service activates it on each tick.
        Assert.True(await Clusters.EventuallyAsync(async () =>
            await cluster.GrainFactory.GetGrain<IReminderGrain>("r2").TicksAsync() >= afterRestart + 3), "reminder did not fire after restart");
    }

    [Fact]
    public async Task Periods_below_the_minimum_are_refused()
    {
        await using var cluster = await Clusters.StartAsync(("Runtime:Reminders:MinimumPeriod", "00:00:01"));
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cluster.GrainFactory.GetGrain<IReminderGrain>("r3").StartAsync(periodMs: 100));
        Assert.Contains("at least", error.Message);
    }
}
