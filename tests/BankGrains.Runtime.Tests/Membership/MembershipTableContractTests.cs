using BankGrains.Runtime.Membership;
using Xunit;

namespace BankGrains.Runtime.Tests.Membership;

/// <summary>
/// The <see cref="IMembershipTable"/> contract, run against every implementation. A concrete class only
/// says how to make a table: all tables one test makes share one store (one database), as the silos of
/// a cluster — and several clusters — do. Each test uses its own cluster ids, so tests may share a store.
/// </summary>
public abstract class MembershipTableContractTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    protected string ClusterId { get; } = NewClusterId();

    /// <summary>An initialised table for <see cref="ClusterId"/>.</summary>
    protected IMembershipTable Table { get; private set; } = null!;

    /// <summary>A table for <paramref name="clusterId"/> over the test's shared store, not yet initialised.</summary>
    protected abstract IMembershipTable CreateTable(string clusterId);

    protected virtual Task CleanupAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        Table = CreateTable(ClusterId);
        await Table.InitializeAsync(CancellationToken.None);
    }

    public Task DisposeAsync() => CleanupAsync();

    [Fact]
    public async Task A_new_cluster_has_version_zero_and_no_entries()
    {
        var snapshot = await Table.ReadAllAsync();

        Assert.Equal(0, snapshot.Version);
        Assert.Empty(snapshot.Entries);
    }

    [Fact]
    public async Task Initializing_again_is_a_no_op_even_from_another_table_instance()
    {
        var entry = Entry(Silo(1));
        Assert.True(await Table.InsertRowAsync(entry, 0));

        await Table.InitializeAsync(CancellationToken.None);
        await CreateTable(ClusterId).InitializeAsync(CancellationToken.None);

        var snapshot = await Table.ReadAllAsync();
        Assert.Equal(1, snapshot.Version);
        Assert.Equal([entry], snapshot.Entries);
    }

    [Fact]
    public async Task An_uninitialized_cluster_cannot_be_read_and_refuses_every_change()
    {
        var table = CreateTable(NewClusterId());
        var entry = Entry(Silo(1));

        await Assert.ThrowsAsync<InvalidOperationException>(table.ReadAllAsync);
        Assert.False(await table.InsertRowAsync(entry, 0));
        Assert.False(await table.UpdateRowAsync(entry, 0));
        await table.UpdateIAmAliveAsync(entry.Silo, T0.AddHours(1));
        Assert.Equal(0, await table.CleanupDefunctEntriesAsync(T0.AddYears(1)));

        // Nothing slipped in before the version row existed.
        await table.InitializeAsync(CancellationToken.None);
        var snapshot = await table.ReadAllAsync();
        Assert.Equal(0, snapshot.Version);
        Assert.Empty(snapshot.Entries);
    }

    [Fact]
    public async Task Insert_with_the_current_version_adds_the_row_and_bumps_the_version_by_exactly_one()
    {
        var first = Entry(Silo(1), SiloStatus.Joining);
        var second = Entry(Silo(2), SiloStatus.Active, suspicions: [new Suspicion(Silo(1), T0.AddSeconds(3))]);

        Assert.True(await Table.InsertRowAsync(first, 0));
        var afterFirst = await Table.ReadAllAsync();
        Assert.True(await Table.InsertRowAsync(second, afterFirst.Version));
        var afterSecond = await Table.ReadAllAsync();

        Assert.Equal(1, afterFirst.Version);
        Assert.Equal([first], afterFirst.Entries);
        Assert.Equal(2, afterSecond.Version);
        Assert.Equal([first, second], afterSecond.Entries);
    }

    [Theory]
    [InlineData(0)] // stale
    [InlineData(2)] // from the future
    [InlineData(-1)]
    public async Task Insert_with_any_other_version_returns_false_and_changes_nothing(long expectedVersion)
    {
        Assert.True(await Table.InsertRowAsync(Entry(Silo(1)), 0));
        var before = await Table.ReadAllAsync();

        Assert.False(await Table.InsertRowAsync(Entry(Silo(2)), expectedVersion));

        Assert.Equal(before, await Table.ReadAllAsync());
    }

    [Fact]
    public async Task Inserting_a_silo_that_already_has_a_row_fails_and_changes_nothing()
    {
        var original = Entry(Silo(1), SiloStatus.Active);
        Assert.True(await Table.InsertRowAsync(original, 0));

        var impostor = original with { SiloName = "other", Status = SiloStatus.Joining, IAmAliveTime = T0.AddMinutes(5) };
        Assert.False(await Table.InsertRowAsync(impostor, 1));

        var snapshot = await Table.ReadAllAsync();
        Assert.Equal(1, snapshot.Version);
        Assert.Equal([original], snapshot.Entries);
    }

    [Fact]
    public async Task Update_with_the_current_version_replaces_the_row_and_bumps_the_version_by_exactly_one()
    {
        var joined = Entry(Silo(1), SiloStatus.Joining);
        var other = Entry(Silo(2));
        Assert.True(await Table.InsertRowAsync(joined, 0));
        Assert.True(await Table.InsertRowAsync(other, 1));

        var changed = joined with
        {
            SiloName = "renamed",
            HostName = "host-b",
            Status = SiloStatus.Active,
            StartTime = T0.AddSeconds(-30),
            IAmAliveTime = T0.AddSeconds(10),
            Suspicions = [new Suspicion(Silo(2), T0.AddSeconds(9)), new Suspicion(Silo(3), T0.AddSeconds(8))],
        };
        Assert.True(await Table.UpdateRowAsync(changed, 2));

        var snapshot = await Table.ReadAllAsync();
        Assert.Equal(3, snapshot.Version);
        Assert.Equal([changed, other], snapshot.Entries);

        // Suspicions can be cleared again.
        var cleared = changed with { Suspicions = [] };
        Assert.True(await Table.UpdateRowAsync(cleared, 3));
        Assert.Equal(cleared, (await Table.ReadAllAsync()).Find(Silo(1)));
    }

    [Theory]
    [InlineData(1)] // stale
    [InlineData(3)] // from the future
    public async Task Update_with_any_other_version_returns_false_and_changes_nothing(long expectedVersion)
    {
        var entry = Entry(Silo(1), SiloStatus.Joining);
        Assert.True(await Table.InsertRowAsync(entry, 0));
        Assert.True(await Table.InsertRowAsync(Entry(Silo(2)), 1));
        var before = await Table.ReadAllAsync();

        Assert.False(await Table.UpdateRowAsync(entry with { Status = SiloStatus.Dead }, expectedVersion));

        Assert.Equal(before, await Table.ReadAllAsync());
    }

    [Fact]
    public async Task Update_of_a_missing_row_fails_and_inserts_nothing()
    {
        Assert.True(await Table.InsertRowAsync(Entry(Silo(1)), 0));
        var before = await Table.ReadAllAsync();

        Assert.False(await Table.UpdateRowAsync(Entry(Silo(2)), 1));
        Assert.False(await Table.UpdateRowAsync(Entry(Silo(1, generation: 2)), 1)); // same endpoint, other incarnation

        Assert.Equal(before, await Table.ReadAllAsync());
    }

    [Fact]
    public async Task Of_concurrent_inserts_with_the_same_expected_version_exactly_one_wins()
    {
        var tables = Enumerable.Range(0, 4).Select(_ => CreateTable(ClusterId)).ToArray();
        var entries = Enumerable.Range(1, 20).Select(i => Entry(Silo(i))).ToArray();

        var results = await RaceAsync(entries.Length, i => tables[i % tables.Length].InsertRowAsync(entries[i], 0));

        Assert.Single(results, won => won);
        var winner = entries[Array.IndexOf(results, true)];
        var snapshot = await Table.ReadAllAsync();
        Assert.Equal(1, snapshot.Version);
        Assert.Equal([winner], snapshot.Entries);
    }

    [Fact]
    public async Task Of_concurrent_inserts_of_one_silo_exactly_one_wins_even_across_versions()
    {
        Assert.True(await Table.InsertRowAsync(Entry(Silo(99)), 0));
        var tables = Enumerable.Range(0, 4).Select(_ => CreateTable(ClusterId)).ToArray();

        // Each contender retries on a moved version, as a joining silo would; the duplicate must still lose.
        var results = await RaceAsync(20, async i =>
        {
            var entry = Entry(Silo(1)) with { SiloName = $"contender-{i}" };
            while (true)
            {
                var snapshot = await tables[i % tables.Length].ReadAllAsync();
                if (snapshot.Find(entry.Silo) is not null) return false;
                if (await tables[i % tables.Length].InsertRowAsync(entry, snapshot.Version)) return true;
            }
        });

        Assert.Single(results, won => won);
        var final = await Table.ReadAllAsync();
        Assert.Equal(2, final.Version);
        Assert.Equal($"contender-{Array.IndexOf(results, true)}", final.Find(Silo(1))?.SiloName);
    }

    [Fact]
    public async Task Of_concurrent_updates_with_the_same_expected_version_exactly_one_wins()
    {
        var entry = Entry(Silo(1), SiloStatus.Active);
        Assert.True(await Table.InsertRowAsync(entry, 0));
        var tables = Enumerable.Range(0, 4).Select(_ => CreateTable(ClusterId)).ToArray();
        var updates = Enumerable.Range(0, 20)
            .Select(i => entry with { Suspicions = [new Suspicion(Silo(100 + i), T0.AddSeconds(i))] })
            .ToArray();

        var results = await RaceAsync(updates.Length, i => tables[i % tables.Length].UpdateRowAsync(updates[i], 1));

        Assert.Single(results, won => won);
        var snapshot = await Table.ReadAllAsync();
        Assert.Equal(2, snapshot.Version);
        Assert.Equal([updates[Array.IndexOf(results, true)]], snapshot.Entries);
    }

    [Fact]
    public async Task Snapshots_are_consistent_while_writers_race()
    {
        // Every change here is an insert, so a consistent snapshot has exactly Version entries.
        var tables = Enumerable.Range(0, 4).Select(_ => CreateTable(ClusterId)).ToArray();
        using var stop = new CancellationTokenSource();
        var inconsistent = new List<MembershipSnapshot>();
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(async () =>
        {
            var reads = 0;
            while (!stop.IsCancellationRequested || reads == 0)
            {
                var snapshot = await tables[r].ReadAllAsync();
                reads++;
                if (snapshot.Entries.Count != snapshot.Version)
                {
                    lock (inconsistent) inconsistent.Add(snapshot);
                }
            }
            return reads;
        })).ToArray();

        var wins = await RaceAsync(30, async i =>
        {
            var table = tables[i % tables.Length];
            var entry = Entry(Silo(i + 1));
            while (true)
            {
                if (await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version)) return true;
            }
        });
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.All(wins, Assert.True);
        Assert.Empty(inconsistent);
        var final = await Table.ReadAllAsync();
        Assert.Equal(30, final.Version); // one bump per change, never two, never lost
        Assert.Equal(30, final.Entries.Count);
    }

    [Fact]
    public async Task A_heartbeat_changes_only_IAmAlive_never_the_version_or_the_status()
    {
        var suspected = Entry(Silo(1), SiloStatus.Joining, suspicions: [new Suspicion(Silo(2), T0.AddSeconds(1))]);
        var dead = Entry(Silo(2), SiloStatus.Dead);
        Assert.True(await Table.InsertRowAsync(suspected, 0));
        Assert.True(await Table.InsertRowAsync(dead, 1));

        await Table.UpdateIAmAliveAsync(suspected.Silo, T0.AddSeconds(5));
        await Table.UpdateIAmAliveAsync(dead.Silo, T0.AddSeconds(6)); // a zombie's heartbeat resurrects nothing

        var snapshot = await Table.ReadAllAsync();
        Assert.Equal(2, snapshot.Version);
        Assert.Equal([suspected with { IAmAliveTime = T0.AddSeconds(5) }, dead with { IAmAliveTime = T0.AddSeconds(6) }], snapshot.Entries);
        // The snapshot's version is still good for a compare-and-swap.
        Assert.True(await Table.UpdateRowAsync(snapshot.Entries[0] with { Status = SiloStatus.Active }, 2));
    }

    [Fact]
    public async Task A_heartbeat_never_moves_IAmAlive_backwards_and_ignores_silos_without_a_row()
    {
        var entry = Entry(Silo(1), alive: T0.AddSeconds(10));
        Assert.True(await Table.InsertRowAsync(entry, 0));

        await Table.UpdateIAmAliveAsync(entry.Silo, T0.AddSeconds(4));
        await Table.UpdateIAmAliveAsync(Silo(2), T0.AddSeconds(20));
        await Table.UpdateIAmAliveAsync(Silo(1, generation: 2), T0.AddSeconds(20));

        var snapshot = await Table.ReadAllAsync();
        Assert.Equal(1, snapshot.Version);
        Assert.Equal([entry], snapshot.Entries);
    }

    [Fact]
    public async Task An_update_from_an_older_view_keeps_the_newer_heartbeat()
    {
        var entry = Entry(Silo(1), alive: T0);
        Assert.True(await Table.InsertRowAsync(entry, 0));
        var view = await Table.ReadAllAsync();
        await Table.UpdateIAmAliveAsync(entry.Silo, T0.AddSeconds(30)); // the owner beats after the view was read

        var suspicion = new Suspicion(Silo(2), T0.AddSeconds(31));
        Assert.True(await Table.UpdateRowAsync(view.Entries[0] with { Suspicions = [suspicion] }, view.Version));

        var stored = (await Table.ReadAllAsync()).Find(entry.Silo);
        Assert.Equal(entry with { IAmAliveTime = T0.AddSeconds(30), Suspicions = [suspicion] }, stored);
    }

    [Fact]
    public async Task Timestamps_and_suspicions_round_trip_in_utc_to_the_microsecond()
    {
        var plus2 = TimeSpan.FromHours(2);
        var start = new DateTimeOffset(2025, 3, 30, 1, 30, 15, 250, plus2).AddTicks(1234); // 0.1234 ms past
        var alive = start.AddMinutes(1).AddTicks(7);
        var early = new DateTimeOffset(2025, 3, 30, 1, 31, 0, 0, plus2).AddTicks(56789);
        var late = early.AddSeconds(1).AddTicks(1);
        var ipv6 = new SiloAddress("fd00::17", 30000, 77);
        // Written later-first: the table keeps the order it was given.
        var entry = Entry(new SiloAddress("2001:db8::1", 11111, 5), SiloStatus.Active,
            suspicions: [new Suspicion(ipv6, late), new Suspicion(Silo(3), early)]) with { StartTime = start, IAmAliveTime = alive };

        Assert.True(await Table.InsertRowAsync(entry, 0));
        var read = Assert.Single((await Table.ReadAllAsync()).Entries);

        Assert.Equal(new SiloAddress("2001:db8::1", 11111, 5), read.Silo);
        AssertMicrosecondUtc(start, read.StartTime);
        AssertMicrosecondUtc(alive, read.IAmAliveTime);
        Assert.Equal(2, read.Suspicions.Count);
        Assert.Equal(ipv6, read.Suspicions[0].Suspecter);
        AssertMicrosecondUtc(late, read.Suspicions[0].At);
        Assert.Equal(Silo(3), read.Suspicions[1].Suspecter);
        AssertMicrosecondUtc(early, read.Suspicions[1].At);
        Assert.Equal(entry, read);
    }

    [Fact]
    public async Task Cleanup_removes_only_dead_rows_older_than_the_cutoff_and_bumps_the_version_once()
    {
        var cutoff = T0;
        var oldDead1 = Entry(Silo(1), SiloStatus.Dead, alive: cutoff.AddDays(-2));
        var oldDead2 = Entry(Silo(2), SiloStatus.Dead, alive: cutoff.AddTicks(-10)); // one microsecond before
        var deadAtCutoff = Entry(Silo(3), SiloStatus.Dead, alive: cutoff);
        var recentDead = Entry(Silo(4), SiloStatus.Dead, alive: cutoff.AddMinutes(1));
        var oldActive = Entry(Silo(5), SiloStatus.Active, alive: cutoff.AddDays(-2));
        var oldJoining = Entry(Silo(6), SiloStatus.Joining, alive: cutoff.AddDays(-2));
        var oldShuttingDown = Entry(Silo(7), SiloStatus.ShuttingDown, alive: cutoff.AddDays(-2));
        var all = new[] { oldDead1, oldDead2, deadAtCutoff, recentDead, oldActive, oldJoining, oldShuttingDown };
        for (var i = 0; i < all.Length; i++) Assert.True(await Table.InsertRowAsync(all[i], i));

        Assert.Equal(2, await Table.CleanupDefunctEntriesAsync(cutoff));

        var snapshot = await Table.ReadAllAsync();
        Assert.Equal(all.Length + 1, snapshot.Version);
        Assert.Equal([deadAtCutoff, recentDead, oldActive, oldJoining, oldShuttingDown], snapshot.Entries);

        // Nothing left to remove: no version bump.
        Assert.Equal(0, await Table.CleanupDefunctEntriesAsync(cutoff));
        Assert.Equal(snapshot, await Table.ReadAllAsync());
    }

    [Fact]
    public async Task Clusters_sharing_a_store_are_isolated()
    {
        var other = CreateTable(NewClusterId());
        await other.InitializeAsync(CancellationToken.None);
        var silo = Silo(1);
        var mine = Entry(silo, SiloStatus.Dead, alive: T0.AddDays(-1));
        var theirs = Entry(silo, SiloStatus.Dead, alive: T0.AddDays(-1)) with { SiloName = "theirs" };

        // The same silo address, the same expected version: both clusters accept it independently.
        Assert.True(await Table.InsertRowAsync(mine, 0));
        Assert.True(await other.InsertRowAsync(theirs, 0));
        Assert.True(await Table.InsertRowAsync(Entry(Silo(2)), 1));

        await Table.UpdateIAmAliveAsync(silo, T0.AddDays(1));
        Assert.True(await Table.UpdateRowAsync(mine with { HostName = "changed" }, 2));
        Assert.Equal(0, await other.CleanupDefunctEntriesAsync(T0.AddDays(-2)));
        Assert.Equal(1, await other.CleanupDefunctEntriesAsync(T0));
        Assert.Equal(new MembershipSnapshot(2, []), await other.ReadAllAsync());

        var snapshot = await Table.ReadAllAsync();
        Assert.Equal(3, snapshot.Version);
        Assert.Equal(mine with { HostName = "changed", IAmAliveTime = T0.AddDays(1) }, snapshot.Find(silo));

        await other.DeleteClusterAsync();
        Assert.Equal(snapshot, await Table.ReadAllAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(other.ReadAllAsync);
    }

    [Fact]
    public async Task A_restarted_silo_is_a_new_row()
    {
        var before = Entry(new SiloAddress("10.0.0.1", 11111, 1000), SiloStatus.Active, alive: T0.AddDays(-1));
        var after = Entry(new SiloAddress("10.0.0.1", 11111, 1001), SiloStatus.Joining, alive: T0);
        Assert.True(await Table.InsertRowAsync(before, 0));

        Assert.True(await Table.InsertRowAsync(after, 1));
        Assert.True(await Table.UpdateRowAsync(before with { Status = SiloStatus.Dead }, 2));
        await Table.UpdateIAmAliveAsync(after.Silo, T0.AddSeconds(5));

        var snapshot = await Table.ReadAllAsync();
        Assert.Equal(3, snapshot.Version);
        Assert.Equal([before with { Status = SiloStatus.Dead }, after with { IAmAliveTime = T0.AddSeconds(5) }], snapshot.Entries);

        Assert.Equal(1, await Table.CleanupDefunctEntriesAsync(T0.AddHours(-1)));
        Assert.Equal([after with { IAmAliveTime = T0.AddSeconds(5) }], (await Table.ReadAllAsync()).Entries);
    }

    [Fact]
    public async Task Entries_come_ordered_by_silo_address()
    {
        SiloAddress[] silos =
        [
            new("10.0.0.9", 11111, 3), new("10.0.0.10", 11111, 1), new("10.0.0.9", 11112, 1),
            new("10.0.0.9", 11111, 2), new("::1", 11111, 1), new("192.168.1.1", 80, 1),
        ];
        for (var i = 0; i < silos.Length; i++) Assert.True(await Table.InsertRowAsync(Entry(silos[i]), i));

        var read = (await Table.ReadAllAsync()).Entries.Select(e => e.Silo).ToArray();

        Assert.Equal(silos.Order().ToArray(), read);
        Assert.Equal(
            ["10.0.0.10:11111@1", "10.0.0.9:11111@2", "10.0.0.9:11111@3", "10.0.0.9:11112@1", "192.168.1.1:80@1", "[::1]:11111@1"],
            read.Select(s => s.ToString()));
    }

    [Fact]
    public async Task Deleting_a_cluster_removes_its_rows_and_version_and_it_can_start_over()
    {
        Assert.True(await Table.InsertRowAsync(Entry(Silo(1)), 0));
        Assert.True(await Table.InsertRowAsync(Entry(Silo(2)), 1));

        await Table.DeleteClusterAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(Table.ReadAllAsync);
        await Table.DeleteClusterAsync(); // deleting nothing is fine
        await Table.InitializeAsync(CancellationToken.None);
        Assert.Equal(new MembershipSnapshot(0, []), await Table.ReadAllAsync());
        Assert.True(await Table.InsertRowAsync(Entry(Silo(1)), 0));
    }

    [Fact]
    public async Task Cleanup_updates_and_heartbeats_racing_on_the_same_rows_never_fail()
    {
        var silos = Enumerable.Range(1, 8).Select(i => Silo(i)).ToArray();
        for (var i = 0; i < silos.Length; i++)
            Assert.True(await Table.InsertRowAsync(Entry(silos[i], SiloStatus.Active, alive: T0.AddDays(-1)), i));
        var tables = Enumerable.Range(0, 4).Select(_ => CreateTable(ClusterId)).ToArray();

        var work = await RaceAsync(12, async i =>
        {
            var table = tables[i % tables.Length];
            var silo = silos[i % silos.Length];
            for (var round = 0; round < 5; round++)
            {
                switch (i % 3)
                {
                    case 0: // a prober declaring a silo dead, re-reading when it loses the race
                        var view = await table.ReadAllAsync();
                        if (view.Find(silo) is { } entry)
                            await table.UpdateRowAsync(entry with { Status = SiloStatus.Dead, Suspicions = [new Suspicion(silos[0], T0)] }, view.Version);
                        break;
                    case 1:
                        await table.UpdateIAmAliveAsync(silo, T0.AddDays(-1).AddSeconds(round));
                        break;
                    default:
                        await table.CleanupDefunctEntriesAsync(T0);
                        break;
                }
            }
            return true;
        });

        Assert.All(work, Assert.True);
        var final = await Table.ReadAllAsync();
        Assert.All(final.Entries, e => Assert.NotEqual(SiloStatus.Joining, e.Status));
        // After one more cleanup, only the silos nobody declared dead are left.
        await Table.CleanupDefunctEntriesAsync(T0);
        Assert.All((await Table.ReadAllAsync()).Entries, e => Assert.Equal(SiloStatus.Active, e.Status));
    }

    protected static string NewClusterId() => "cluster-" + Guid.NewGuid().ToString("N")[..12];

    protected static SiloAddress Silo(int n, int generation = 1) => new($"10.0.{n / 250}.{n % 250 + 1}", 11111, generation);

    protected static MembershipEntry Entry(
        SiloAddress silo, SiloStatus status = SiloStatus.Active, DateTimeOffset? alive = null, IReadOnlyList<Suspicion>? suspicions = null)
        => new(silo, $"silo-{silo.Port}-{silo.Generation}", "host-a", status, T0.AddMinutes(-5), alive ?? T0, suspicions);

    /// <summary>Starts <paramref name="count"/> operations at once (behind one gate) and returns their results in order.</summary>
    protected static async Task<T[]> RaceAsync<T>(int count, Func<int, Task<T>> operation)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            await gate.Task;
            return await operation(i);
        })).ToArray();
        gate.SetResult();
        return await Task.WhenAll(tasks);
    }

    private static void AssertMicrosecondUtc(DateTimeOffset written, DateTimeOffset read)
    {
        Assert.Equal(TimeSpan.Zero, read.Offset);
        Assert.Equal(written.UtcTicks - written.UtcTicks % 10, read.UtcTicks);
    }
}
