using BankGrains.Runtime.Cluster;
using BankGrains.Runtime.Membership;
using BankGrains.Runtime.Testing;
using BankGrains.Runtime.Tests.Execution;
using BankGrains.Runtime.Tests.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace BankGrains.Runtime.Tests.Cluster;

/// <summary>
/// Three silos in one process, talking over real TCP on loopback, sharing an in-memory membership
/// table and grain storage. Failure detection is shortened (probe 0.3 s × 3 misses).
/// </summary>
public sealed class MultiSiloTests
{
    /// <summary>The bound within which every grain of a killed silo answers again, with the test timings.</summary>
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(15);

    private static Task<TestCluster> StartAsync(int silos = 3, params (string, string)[] settings) =>
        Clusters.StartAsync(options => options.InitialSilosCount = silos, settings);

    [Fact]
    public async Task Grains_spread_over_the_silos_and_each_has_exactly_one_activation()
    {
        await using var cluster = await StartAsync();
        var keys = Enumerable.Range(0, 60).Select(i => $"spread-{i}").ToList();

        // Every silo calls every grain: all must reach the same activation.
        var seen = new Dictionary<string, HashSet<string>>();
        foreach (var silo in cluster.Silos)
        foreach (var key in keys)
        {
            var id = await silo.GrainFactory.GetGrain<ILifecycleGrain>(key).GetActivationIdAsync();
            (seen.TryGetValue(key, out var ids) ? ids : seen[key] = new()).Add(id);
        }

        Assert.All(seen.Values, ids => Assert.Single(ids));
        var perSilo = cluster.Silos.Select(s => s.ActivationCount).ToList();
        Assert.All(perSilo, count => Assert.True(count > 5, $"uneven placement: {string.Join(", ", perSilo)}"));
        Assert.Equal(keys.Count, perSilo.Sum());
    }

    [Fact]
    public async Task Concurrent_callers_on_every_silo_see_one_consistent_grain()
    {
        await using var cluster = await StartAsync();
        var calls = cluster.Silos.SelectMany(silo => Enumerable.Range(0, 40)
            .Select(_ => silo.GrainFactory.GetGrain<IConcurrencyProbeGrain>("shared").IncrementAsync()));

        var results = await Task.WhenAll(calls);

        Assert.Equal(Enumerable.Range(1, 120), results.Order());
        var report = await cluster.GrainFactory.GetGrain<IConcurrencyProbeGrain>("shared").ReportAsync();
        Assert.Equal(1, report.MaxOverlappingRequests);
    }

    [Fact]
    public async Task Domain_exceptions_cross_silos_as_their_own_type()
    {
        await using var cluster = await StartAsync(3, ("Runtime:Reminders:MinimumPeriod", "00:00:01"));
        foreach (var silo in cluster.Silos)
        {
            var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
                silo.GrainFactory.GetGrain<IReminderGrain>("cross-silo-error").StartAsync(periodMs: 10));
            Assert.Contains("at least", error.Message);
        }
    }

    [Fact]
    public async Task When_a_silo_is_killed_its_grains_answer_again_on_the_others_and_no_acknowledged_write_is_lost()
    {
        await using var cluster = await StartAsync();
        var survivor = cluster.Silos[0];
        var victim = cluster.Silos[2];
        var keys = Enumerable.Range(0, 30).Select(i => $"kill-{i}").ToList();
        var acknowledged = keys.ToDictionary(k => k, _ => 0);
        foreach (var key in keys)
        {
            await survivor.GrainFactory.GetGrain<IStateGrain>(key).SetValueAsync(1);
            acknowledged[key] = 1;
        }

        var victimAddress = victim.Address;
        cluster.KillSilo(victim);
        var killedAt = DateTime.UtcNow;

        // Keep writing through the kill: every write that is acknowledged must be the value read afterwards.
        await Task.WhenAll(keys.Select(async key =>
        {
            for (var value = 2; value <= 4; value++)
            {
                while (true)
                {
                    try
                    {
                        await survivor.GrainFactory.GetGrain<IStateGrain>(key).SetValueAsync(value);
                        acknowledged[key] = value;
                        break;
                    }
                    catch (Exception) when (DateTime.UtcNow - killedAt < RecoveryBound)
                    {
                        await Task.Delay(50);
                    }
                }
            }
        }));

        Assert.True(DateTime.UtcNow - killedAt < RecoveryBound, "grains did not come back within the bound");
        foreach (var key in keys)
            Assert.Equal(acknowledged[key], await survivor.GrainFactory.GetGrain<IStateGrain>(key).GetValueAsync());
        var table = await cluster.MembershipTableSnapshotAsync();
        Assert.Equal(SiloStatus.Dead, table.Find(victimAddress)!.Status);
        await cluster.WaitForViewAsync(2, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_graceful_stop_hands_activations_over_without_ever_running_two()
    {
        await using var cluster = await StartAsync();
        var log = new List<string>();
        var keys = Enumerable.Range(0, 30).Select(i => $"handoff-{i}").ToList();
        foreach (var key in keys) await cluster.GrainFactory.GetGrain<IStateGrain>(key).SetValueAsync(7);
        var leaving = cluster.Silos[1];

        var load = Task.WhenAll(keys.Select(async key =>
        {
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(7, await cluster.Silos[0].GrainFactory.GetGrain<IStateGrain>(key).GetValueAsync());
                await Task.Delay(10);
            }
        }));
        await cluster.StopSiloAsync(leaving);
        await load;

        await cluster.WaitForViewAsync(2, TimeSpan.FromSeconds(5));
        Assert.Equal(keys.Count, cluster.Silos.Sum(s => s.ActivationCount));
        var row = (await cluster.MembershipTableSnapshotAsync()).Entries.Single(e => e.Silo == leaving.AddressAtStop);
        Assert.Equal(SiloStatus.Dead, row.Status);
    }

    [Fact]
    public async Task A_restarted_silo_rejoins_with_a_new_generation()
    {
        await using var cluster = await StartAsync();
        var old = cluster.Silos[2].Address;

        var fresh = await cluster.RestartSiloAsync(cluster.Silos[2]);

        await cluster.WaitForViewAsync(3, RecoveryBound);
        Assert.NotEqual(old, fresh.Address);
        Assert.True(fresh.Address.Generation > old.Generation);
        Assert.Equal(SiloStatus.Dead, (await cluster.MembershipTableSnapshotAsync()).Find(old)!.Status);
        Assert.Equal(42, await WriteThenReadAsync(fresh.GrainFactory, "after-rejoin", 42));
    }

    [Fact]
    public async Task Reminders_keep_firing_after_their_owner_is_killed()
    {
        await using var cluster = await StartAsync(3, ("Runtime:Reminders:MinimumPeriod", "00:00:00.050"), ("Runtime:Reminders:RefreshPeriod", "00:00:00.200"));
        var keys = Enumerable.Range(0, 9).Select(i => $"remind-{i}").ToList();
        foreach (var key in keys) await cluster.GrainFactory.GetGrain<IReminderGrain>(key).StartAsync(periodMs: 100);
        Assert.True(await Clusters.EventuallyAsync(async () =>
            (await Task.WhenAll(keys.Select(k => cluster.GrainFactory.GetGrain<IReminderGrain>(k).TicksAsync()))).All(t => t >= 1)));

        var before = await Task.WhenAll(keys.Select(k => cluster.GrainFactory.GetGrain<IReminderGrain>(k).TicksAsync()));
        cluster.KillSilo(cluster.Silos[2]);

        Assert.True(await Clusters.EventuallyAsync(async () =>
        {
            var now = await Task.WhenAll(keys.Select(k => cluster.GrainFactory.GetGrain<IReminderGrain>(k).TicksAsync()));
            return now.Zip(before).All(p => p.First >= p.Second + 3);
        }, RecoveryBound), "some reminders stopped firing after their silo died");
    }

    [Fact]
    public async Task A_silo_that_finds_itself_declared_dead_stops_at_once()
    {
        await using var cluster = await StartAsync();
        var doomed = cluster.Silos[1];
        await doomed.GrainFactory.GetGrain<IStateGrain>("before-death").SetValueAsync(1);
        var stopping = doomed.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

        // Another silo's votes, as if it had stopped answering probes.
        var table = cluster.MembershipTable;
        var snapshot = await table.ReadAllAsync();
        var row = snapshot.Find(doomed.Address)!;
        Assert.True(await table.UpdateRowAsync(row with { Status = SiloStatus.Dead }, snapshot.Version));

        Assert.True(await Clusters.EventuallyAsync(() => Task.FromResult(stopping.IsCancellationRequested), TimeSpan.FromSeconds(5)),
            "the silo did not stop after being declared dead");
        var membership = doomed.Services.GetRequiredService<MembershipService>();
        Assert.True(membership.IsDeclaredDead);
        await Assert.ThrowsAsync<SiloLeaseExpiredException>(async () => await membership.EnsureCanWriteAsync());
        Assert.Equal(0, doomed.Services.GetRequiredService<Core.Catalog>().ActivationCount);
    }

    [Fact]
    public async Task While_the_membership_table_is_unreachable_nobody_is_declared_dead_and_owned_grains_keep_answering()
    {
        await using var cluster = await StartAsync();
        var survivor = cluster.Silos[0];
        var victim = cluster.Silos[2];
        var keys = Enumerable.Range(0, 30).Select(i => $"outage-{i}").ToList();
        foreach (var key in keys) await survivor.GrainFactory.GetGrain<IStateGrain>(key).SetValueAsync(5);
        var view = survivor.Services.GetRequiredService<IClusterViewSource>().Current;
        var survivingKeys = keys.Where(k => view.OwnerOf(new GrainId("state", k)) != victim.Address).ToList();
        var victimAddress = victim.Address;
        var table = (InMemoryMembershipTable)cluster.MembershipTable;

        table.Unavailable = true;
        cluster.KillSilo(victim);
        await Task.Delay(TimeSpan.FromSeconds(3)); // several detection periods and leases

        // Grains on the silos that are up still answer (from memory), from every silo.
        foreach (var key in survivingKeys)
            Assert.Equal(5, await cluster.Silos[1].GrainFactory.GetGrain<IStateGrain>(key).GetValueAsync());
        // Read through another handle on the same store (the outage is simulated per handle).
        var duringOutage = await table.ForCluster("test").ReadAllAsync();
        table.Unavailable = false;

        Assert.Equal(SiloStatus.Active, duringOutage.Find(victimAddress)!.Status);
        // Once the table is back, the dead silo is found out and its grains come back too.
        Assert.True(await Clusters.EventuallyAsync(async () =>
            (await cluster.MembershipTableSnapshotAsync()).Find(victimAddress)!.Status == SiloStatus.Dead, RecoveryBound));
        foreach (var key in keys.Except(survivingKeys))
            Assert.True(await Clusters.EventuallyAsync(async () => await survivor.GrainFactory.GetGrain<IStateGrain>(key).GetValueAsync() == 5, RecoveryBound));
    }

    private static async Task<int> WriteThenReadAsync(IGrainFactory grains, string key, int value)
    {
        await grains.GetGrain<IStateGrain>(key).SetValueAsync(value);
        return await grains.GetGrain<IStateGrain>(key).GetValueAsync();
    }
}
