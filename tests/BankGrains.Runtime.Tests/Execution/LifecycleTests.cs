using BankGrains.Runtime.Core;
using BankGrains.Runtime.Tests.Grains;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace BankGrains.Runtime.Tests.Execution;

public sealed class LifecycleTests
{
    [Fact]
    public async Task One_activation_serves_a_grain_until_it_deactivates_on_idle_request()
    {
        await using var cluster = await Clusters.StartAsync();
        var grain = cluster.GrainFactory.GetGrain<ILifecycleGrain>("deactivate-me");

        var first = await grain.GetActivationIdAsync();
        Assert.Equal(first, await grain.GetActivationIdAsync());
        await grain.DeactivateAsync();
        var second = await grain.GetActivationIdAsync();

        Assert.NotEqual(first, second);
        var log = cluster.Silos[0].Services.GetRequiredService<LifecycleLog>().Entries;
        Assert.Contains($"deactivate deactivate-me {first} ApplicationRequested", log);
        // The old activation finished deactivating before the new one activated: never two at once.
        Assert.True(log.ToList().IndexOf($"deactivate deactivate-me {first} ApplicationRequested")
                    < log.ToList().IndexOf($"activate deactivate-me {second}"));
    }

    [Fact]
    public async Task Idle_activations_are_collected_after_the_configured_age()
    {
        await using var cluster = await Clusters.StartAsync(
            ("Runtime:Collection:CollectionAge", "00:00:00.300"),
            ("Runtime:Collection:CollectionQuantum", "00:00:00.100"));
        var catalog = cluster.Silos[0].Services.GetRequiredService<Catalog>();
        var grain = cluster.GrainFactory.GetGrain<ILifecycleGrain>("idle");
        var first = await grain.GetActivationIdAsync();
        Assert.Equal(1, catalog.CountByGrainType().GetValueOrDefault("lifecycle"));

        Assert.True(await Clusters.EventuallyAsync(() => Task.FromResult(catalog.CountByGrainType().GetValueOrDefault("lifecycle") == 0)),
            "idle activation was not collected");
        var log = cluster.Silos[0].Services.GetRequiredService<LifecycleLog>().Entries;
        Assert.Contains($"deactivate idle {first} ActivationIdle", log);
        Assert.NotEqual(first, await grain.GetActivationIdAsync());
    }

    [Fact]
    public async Task DelayDeactivation_keeps_an_idle_activation_past_the_collection_age()
    {
        await using var cluster = await Clusters.StartAsync(
            ("Runtime:Collection:CollectionAge", "00:00:00.200"),
            ("Runtime:Collection:CollectionQuantum", "00:00:00.050"));
        var grain = cluster.GrainFactory.GetGrain<ILifecycleGrain>("kept-alive");
        var first = await grain.GetActivationIdAsync();
        await grain.KeepAliveAsync(milliseconds: 1500);

        await Task.Delay(800); // four collection ages, idle
        Assert.Equal(first, await grain.GetActivationIdAsync());
    }

    [Fact]
    public async Task Busy_activations_are_not_collected()
    {
        await using var cluster = await Clusters.StartAsync(
            ("Runtime:Collection:CollectionAge", "00:00:01"),
            ("Runtime:Collection:CollectionQuantum", "00:00:00.050"));
        var grain = cluster.GrainFactory.GetGrain<ILifecycleGrain>("busy");
        var first = await grain.GetActivationIdAsync();
        // Used every 100 ms for 2.5 s: more than twice the age, never idle for as long as the age.
        for (var i = 0; i < 25; i++)
        {
            await Task.Delay(100);
            Assert.Equal(first, await grain.GetActivationIdAsync());
        }
    }

    [Fact]
    public async Task A_failed_activation_fails_the_call_and_the_next_call_activates_afresh()
    {
        await using var cluster = await Clusters.StartAsync();
        var failures = cluster.Silos[0].Services.GetRequiredService<FailureSwitch>();
        var grain = cluster.GrainFactory.GetGrain<IFailingActivationGrain>("f");

        failures.FailActivation = true;
        var error = await Assert.ThrowsAsync<GrainActivationException>(() => grain.HelloAsync());
        Assert.Contains("activation refused by test", error.Message);

        failures.FailActivation = false;
        Assert.Equal("hello", await grain.HelloAsync());
    }

    [Fact]
    public async Task Timer_ticks_are_turns_that_do_not_interleave_with_requests_by_default()
    {
        await using var cluster = await Clusters.StartAsync();
        var grain = cluster.GrainFactory.GetGrain<ILifecycleGrain>("timer");

        var ticksDuringRequest = await grain.StartTimerAsync(periodMs: 30, interleave: false);
        Assert.True(await Clusters.EventuallyAsync(async () => (await grain.TimerReportAsync()).Ticks >= 3));

        var report = await grain.TimerReportAsync();
        Assert.Equal(0, ticksDuringRequest);
        Assert.Equal(0, report.OverlapsWithRequests);
    }

    [Fact]
    public async Task An_interleaving_timer_ticks_during_a_long_request()
    {
        await using var cluster = await Clusters.StartAsync();
        var grain = cluster.GrainFactory.GetGrain<ILifecycleGrain>("timer-interleave");

        var ticksDuringRequest = await grain.StartTimerAsync(periodMs: 30, interleave: true);

        Assert.True(ticksDuringRequest >= 1, "an interleaving timer did not tick during the request");
        Assert.True((await grain.TimerReportAsync()).OverlapsWithRequests >= 1);
    }

    [Fact]
    public async Task Timers_stop_when_disposed_and_die_with_their_activation()
    {
        await using var cluster = await Clusters.StartAsync();
        var grain = cluster.GrainFactory.GetGrain<ILifecycleGrain>("timer-stop");
        await grain.StartTimerAsync(periodMs: 20, interleave: false);
        await grain.StopTimerAsync();
        var ticks = (await grain.TimerReportAsync()).Ticks;
        await Task.Delay(150);
        Assert.Equal(ticks, (await grain.TimerReportAsync()).Ticks);

        await grain.StartTimerAsync(periodMs: 20, interleave: false);
        await grain.DeactivateAsync();
        var fresh = await grain.TimerReportAsync();
        await Task.Delay(150);
        Assert.Equal(0, (await grain.TimerReportAsync()).Ticks); // the new activation has no timer
        Assert.Equal(fresh.ActivationId, (await grain.TimerReportAsync()).ActivationId);
    }

    [Fact]
    public async Task Graceful_stop_runs_OnDeactivateAsync_but_a_kill_does_not()
    {
        await using var cluster = await Clusters.StartAsync();
        var log = cluster.Silos[0].Services.GetRequiredService<LifecycleLog>();
        var id = await cluster.GrainFactory.GetGrain<ILifecycleGrain>("stopped").GetActivationIdAsync();
        await cluster.StopSiloAsync(cluster.Silos[0]);
        Assert.Contains($"deactivate stopped {id} ShuttingDown", log.Entries);

        var silo = await cluster.StartSiloAsync();
        var killedLog = silo.Services.GetRequiredService<LifecycleLog>();
        var killedId = await cluster.GrainFactory.GetGrain<ILifecycleGrain>("killed").GetActivationIdAsync();
        cluster.KillSilo(silo);
        Assert.DoesNotContain(killedLog.Entries, e => e.StartsWith($"deactivate killed {killedId}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Calls_queued_on_a_killed_silo_fail_instead_of_hanging()
    {
        await using var cluster = await Clusters.StartAsync(("Runtime:Messaging:ResponseTimeout", "00:00:05"));
        var grain = cluster.GrainFactory.GetGrain<IConcurrencyProbeGrain>("doomed");
        var blocked = grain.BlockUntilReleasedAsync();
        await Task.Delay(50);
        var queued = grain.IncrementAsync();
        await Task.Delay(50);

        cluster.KillSilo(cluster.Silos[0]);

        await Assert.ThrowsAsync<SiloUnavailableException>(() => queued);
        // The running call is lost with the silo: its caller times out, as after a real crash.
        await Assert.ThrowsAsync<GrainCallTimeoutException>(() => blocked);
    }
}
