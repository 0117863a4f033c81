using System.Globalization;
using System.Text.Json.Nodes;
using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Serialization;
using Xunit;

namespace BankGrains.Runtime.Tests.Persistence;

/// <summary>
/// The <see cref="IGrainStorage"/> contract, run against every provider. A concrete class only says
/// how to create its provider. Each test uses its own service id and grains, so tests may share a store.
/// </summary>
public abstract class GrainStorageConformanceTests : IAsyncLifetime
{
    protected const string StateName = "account";

    protected string ServiceId { get; } = "svc-" + Guid.NewGuid().ToString("N")[..12];

    protected IGrainStorage Storage { get; private set; } = null!;

    /// <summary>
    /// A provider for <paramref name="serviceId"/> over this test's store. Two providers for the same
    /// service id must see the same records, like two silos on one database.
    /// </summary>
    protected abstract Task<IGrainStorage> CreateStorageAsync(string serviceId);

    protected virtual Task CleanupAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => Storage = await CreateStorageAsync(ServiceId);

    public Task DisposeAsync() => CleanupAsync();

    // ---- reading -----------------------------------------------------------------------------

    [Fact]
    public async Task Reading_a_missing_record_gives_no_record_no_etag_and_a_new_default_state()
    {
        var stale = new AccountState { Owner = "left over" };
        var state = new GrainState<AccountState>(stale) { ETag = "41", RecordExists = true };

        await Storage.ReadStateAsync(StateName, NewGrain(), state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.NotNull(state.State);
        Assert.NotSame(stale, state.State);
        Assert.Equal("", state.State.Owner);
        Assert.Empty(state.State.Postings);
    }

    [Fact]
    public async Task Reading_a_missing_record_of_a_type_without_parameterless_constructor_gives_default()
    {
        var money = new GrainState<Money?>(new Money(1m, "EUR")) { ETag = "3", RecordExists = true };
        await Storage.ReadStateAsync("money", NewGrain(), money);
        Assert.Null(money.State);
        Assert.False(money.RecordExists);
        Assert.Null(money.ETag);

        var number = new GrainState<int>(17);
        await Storage.ReadStateAsync("number", NewGrain(), number);
        Assert.Equal(0, number.State);
    }

    [Fact]
    public async Task Write_then_read_round_trips_a_complex_state_into_a_fresh_GrainState()
    {
        var grain = new GrainId("account", "DE89 3704 0044 0532 0130 00/ünïcödé ✓ \"quoted\"");
        var written = ComplexState();
        var writer = new GrainState<AccountState>(written);
        await Storage.WriteStateAsync(StateName, grain, writer);

        var reader = new GrainState<AccountState>(new AccountState());
        await Storage.ReadStateAsync(StateName, grain, reader);

        Assert.True(reader.RecordExists);
        Assert.Equal(writer.ETag, reader.ETag);
        var read = reader.State;
        // The whole state, compared as JSON values, then the fields whose exact form matters.
        AssertSameJson(written, read);
        Assert.Equal("Zoë Ørsted – 北京 🚀 \"q\" \\ \t end", read.Owner);
        Assert.Equal("10.50", read.Balance.Amount.ToString(CultureInfo.InvariantCulture));
        Assert.Equal("0.00", read.Limits["daily"].ToString(CultureInfo.InvariantCulture));
        Assert.Equal(decimal.MaxValue, read.Limits["max"]);
        Assert.Equal("0.0000000000000000000000000001", read.Limits["tiny"].ToString(CultureInfo.InvariantCulture));
        Assert.Equal("-1234567.890", read.Limits["negative"].ToString(CultureInfo.InvariantCulture));
        Assert.Equal(written.Limits.Keys.Order(StringComparer.Ordinal), read.Limits.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(written.OpenedAt, read.OpenedAt);
        Assert.Equal(TimeSpan.FromHours(5.5), read.OpenedAt.Offset);
        Assert.Equal(written.OpenedAt.Ticks, read.OpenedAt.Ticks);
        Assert.Equal(AccountStatus.Frozen, read.Status);
        Assert.Null(read.Address!.Country);
        Assert.Null(read.OverdraftCents);
        Assert.Equal(written.Postings.Count, read.Postings.Count);
        Assert.Equal(written.Postings[7].Id, read.Postings[7].Id);
        Assert.Equal(written.Postings[7].Tags, read.Postings[7].Tags);
        Assert.Equal("7.10", read.Postings[7].Amount.Amount.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Polymorphic_state_round_trips_with_its_concrete_types()
    {
        var grain = NewGrain();
        var written = new InstructionsState
        {
            Instructions =
            [
                new StandingOrder("so-1", new Money(250.00m, "EUR"), 28),
                new DirectDebit("dd-1", "MANDATE-ü-1", null),
                new DirectDebit("dd-2", "MANDATE-2", new Money(99.90m, "CHF")),
            ],
            Default = new StandingOrder("so-0", new Money(1.00m, "EUR"), 1),
        };
        await Storage.WriteStateAsync("instructions", grain, new GrainState<InstructionsState>(written));

        var read = await ReadAsync<InstructionsState>(grain, "instructions");

        Assert.Equal(written.Instructions, read.State.Instructions); // records: equal by value, and by concrete type
        Assert.IsType<DirectDebit>(read.State.Instructions[1]);
        Assert.Equal("250.00", ((StandingOrder)read.State.Instructions[0]).Amount.Amount.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(written.Default, read.State.Default);
    }

    [Fact]
    public async Task The_stored_state_is_a_copy_never_an_object_shared_with_the_caller()
    {
        var grain = NewGrain();
        var state = new GrainState<AccountState>(new AccountState { Owner = "before" });
        await Storage.WriteStateAsync(StateName, grain, state);
        state.State.Owner = "changed after the write";
        state.State.Postings.Add(new Posting(Guid.NewGuid(), new Money(1m, "EUR"), "", DateTimeOffset.UnixEpoch, []));

        var first = new GrainState<AccountState>(new AccountState());
        var second = new GrainState<AccountState>(new AccountState());
        await Storage.ReadStateAsync(StateName, grain, first);
        await Storage.ReadStateAsync(StateName, grain, second);

        Assert.Equal("before", first.State.Owner);
        Assert.Empty(first.State.Postings);
        Assert.NotSame(first.State, second.State);
        first.State.Owner = "changed after the read";
        Assert.Equal("before", second.State.Owner);
    }

    // ---- compare-and-swap on write -----------------------------------------------------------

    [Fact]
    public async Task Every_write_returns_a_new_etag_and_a_read_returns_the_latest()
    {
        var grain = NewGrain();
        var state = new GrainState<CounterState>(new CounterState());
        var seen = new List<string>();
        for (var i = 1; i <= 5; i++)
        {
            state.State.Value = i;
            await Storage.WriteStateAsync(StateName, grain, state);
            Assert.True(state.RecordExists);
            Assert.NotNull(state.ETag);
            Assert.DoesNotContain(state.ETag, seen);
            seen.Add(state.ETag!);

            var read = await ReadAsync<CounterState>(grain);
            Assert.Equal(state.ETag, read.ETag);
            Assert.Equal(i, read.State.Value);
        }
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_throws_and_leaves_the_stored_state_unchanged()
    {
        var grain = NewGrain();
        var first = new GrainState<CounterState>(new CounterState { Value = 1, Writer = "first" });
        await Storage.WriteStateAsync(StateName, grain, first);
        var staleETag = first.ETag;
        first.State = new CounterState { Value = 2, Writer = "second" };
        await Storage.WriteStateAsync(StateName, grain, first);

        var stale = new GrainState<CounterState>(new CounterState { Value = 3, Writer = "stale" }) { ETag = staleETag, RecordExists = true };
        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, grain, stale));

        Assert.Equal(staleETag, error.CurrentETag);
        Assert.Equal(first.ETag, error.StoredETag);
        Assert.Contains(grain.ToString(), error.Message);
        Assert.Contains($"'{StateName}'", error.Message);
        Assert.Contains(staleETag!, error.Message);
        Assert.Contains(first.ETag!, error.Message);

        var read = await ReadAsync<CounterState>(grain);
        Assert.Equal("second", read.State.Writer);
        Assert.Equal(first.ETag, read.ETag);
    }

    [Fact]
    public async Task A_first_write_when_a_record_already_exists_throws()
    {
        var grain = NewGrain();
        await Storage.WriteStateAsync(StateName, grain, new GrainState<CounterState>(new CounterState { Writer = "winner" }));

        var late = new GrainState<CounterState>(new CounterState { Writer = "late" }); // ETag null: "I saw no record"
        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, grain, late));

        Assert.Null(error.CurrentETag);
        Assert.NotNull(error.StoredETag);
        Assert.Equal("winner", (await ReadAsync<CounterState>(grain)).State.Writer);
    }

    [Fact]
    public async Task An_etag_that_is_no_version_is_refused_as_a_conflict()
    {
        var grain = NewGrain();
        await Storage.WriteStateAsync(StateName, grain, new GrainState<CounterState>(new CounterState { Writer = "real" }));

        foreach (var bogus in new[] { "", "abc", "-1", "0", " 1", "1.0", "99999999999999999999999" })
        {
            var state = new GrainState<CounterState>(new CounterState { Writer = "bogus" }) { ETag = bogus };
            await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, grain, state));
        }
        Assert.Equal("real", (await ReadAsync<CounterState>(grain)).State.Writer);
    }

    [Fact]
    public async Task A_failed_write_or_clear_leaves_the_callers_GrainState_untouched()
    {
        var grain = NewGrain();
        await Storage.WriteStateAsync(StateName, grain, new GrainState<CounterState>(new CounterState { Writer = "other" }));

        var mine = new CounterState { Value = 7, Writer = "mine" };
        var state = new GrainState<CounterState>(mine) { ETag = null, RecordExists = false };
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, grain, state));
        Assert.Same(mine, state.State);
        Assert.Equal(7, mine.Value);
        Assert.Equal("mine", mine.Writer);
        Assert.Null(state.ETag);
        Assert.False(state.RecordExists);

        state.ETag = "12345";
        state.RecordExists = true;
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.ClearStateAsync(StateName, grain, state));
        Assert.Same(mine, state.State);
        Assert.Equal(7, mine.Value);
        Assert.Equal("12345", state.ETag);
        Assert.True(state.RecordExists);
    }

    [Fact]
    public async Task Concurrent_writers_holding_the_same_etag_exactly_one_wins_each_round()
    {
        const int writers = 12;
        var grain = NewGrain();
        var second = await CreateStorageAsync(ServiceId); // as if a second silo shared the store
        var stores = new[] { Storage, second };
        var baseline = new GrainState<CounterState>(new CounterState { Writer = "baseline" });
        await Storage.WriteStateAsync(StateName, grain, baseline);
        var etag = baseline.ETag;

        for (var round = 0; round < 4; round++)
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var attempts = Enumerable.Range(0, writers).Select(i => Task.Run(async () =>
            {
                var state = new GrainState<CounterState>(new CounterState { Value = round, Writer = $"writer-{i}" }) { ETag = etag, RecordExists = true };
                await start.Task;
                try
                {
                    await stores[i % stores.Length].WriteStateAsync(StateName, grain, state);
                    return (Won: true, State: state);
                }
                catch (InconsistentStateException)
                {
                    return (Won: false, State: state);
                }
            })).ToArray();
            start.SetResult();
            var results = await Task.WhenAll(attempts);

            var winners = results.Where(r => r.Won).ToArray();
            Assert.Single(winners);
            Assert.All(results.Where(r => !r.Won), r => Assert.Equal(etag, r.State.ETag)); // losers keep their ETag
            var stored = await ReadAsync<CounterState>(grain);
            Assert.Equal(winners[0].State.State.Writer, stored.State.Writer);
            Assert.Equal(winners[0].State.ETag, stored.ETag);
            etag = stored.ETag;
        }
    }

    // ---- clear and tombstones ----------------------------------------------------------------

    [Fact]
    public async Task Clear_then_read_gives_no_record_and_the_default_state()
    {
        var grain = NewGrain();
        var state = new GrainState<AccountState>(new AccountState { Owner = "someone" });
        await Storage.WriteStateAsync(StateName, grain, state);
        var writeETag = state.ETag;

        await Storage.ClearStateAsync(StateName, grain, state);
        Assert.False(state.RecordExists);
        Assert.NotNull(state.ETag);
        Assert.NotEqual(writeETag, state.ETag);
        Assert.Equal("", state.State.Owner); // reset to what a read would give

        var read = new GrainState<AccountState>(new AccountState { Owner = "stale" });
        await Storage.ReadStateAsync(StateName, grain, read);
        Assert.False(read.RecordExists);
        Assert.Equal(state.ETag, read.ETag); // the tombstone's version
        Assert.Equal("", read.State.Owner);
    }

    [Fact]
    public async Task A_clear_with_a_stale_etag_throws_and_keeps_the_record()
    {
        var grain = NewGrain();
        var state = new GrainState<CounterState>(new CounterState { Writer = "v1" });
        await Storage.WriteStateAsync(StateName, grain, state);
        var staleETag = state.ETag;
        state.State.Writer = "v2";
        await Storage.WriteStateAsync(StateName, grain, state);

        var stale = new GrainState<CounterState>(new CounterState()) { ETag = staleETag, RecordExists = true };
        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.ClearStateAsync(StateName, grain, stale));
        Assert.Equal(state.ETag, error.StoredETag);

        var read = await ReadAsync<CounterState>(grain);
        Assert.True(read.RecordExists);
        Assert.Equal("v2", read.State.Writer);
    }

    [Fact]
    public async Task A_writer_who_read_no_record_cannot_write_after_another_created_and_cleared_it()
    {
        var grain = NewGrain();
        var slow = new GrainState<CounterState>(new CounterState());
        await Storage.ReadStateAsync(StateName, grain, slow);
        Assert.Null(slow.ETag);

        var fast = new GrainState<CounterState>(new CounterState());
        await Storage.ReadStateAsync(StateName, grain, fast);
        fast.State.Writer = "fast";
        await Storage.WriteStateAsync(StateName, grain, fast);
        await Storage.ClearStateAsync(StateName, grain, fast);

        // The record is gone again, but the version moved on: "no record" is not what slow saw.
        slow.State.Writer = "slow";
        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, grain, slow));
        Assert.Equal(fast.ETag, error.StoredETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.ClearStateAsync(StateName, grain, slow));

        var read = await ReadAsync<CounterState>(grain);
        Assert.False(read.RecordExists);
        Assert.Equal(fast.ETag, read.ETag);
    }

    [Fact]
    public async Task A_write_after_clear_with_the_tombstone_etag_succeeds_and_versions_keep_increasing()
    {
        var grain = NewGrain();
        var state = new GrainState<CounterState>(new CounterState { Writer = "first life" });
        var versions = new List<long>();

        await Storage.WriteStateAsync(StateName, grain, state);
        versions.Add(long.Parse(state.ETag!, CultureInfo.InvariantCulture));
        await Storage.ClearStateAsync(StateName, grain, state);
        versions.Add(long.Parse(state.ETag!, CultureInfo.InvariantCulture));

        var reader = await ReadAsync<CounterState>(grain); // a new activation finds the tombstone
        reader.State.Writer = "second life";
        await Storage.WriteStateAsync(StateName, grain, reader);
        versions.Add(long.Parse(reader.ETag!, CultureInfo.InvariantCulture));
        Assert.True(reader.RecordExists);

        await Storage.ClearStateAsync(StateName, grain, reader);
        versions.Add(long.Parse(reader.ETag!, CultureInfo.InvariantCulture));
        reader.State.Writer = "third life";
        await Storage.WriteStateAsync(StateName, grain, reader);
        versions.Add(long.Parse(reader.ETag!, CultureInfo.InvariantCulture));

        Assert.Equal(versions.Order(), versions);
        Assert.Equal(versions.Distinct().Count(), versions.Count);
        var read = await ReadAsync<CounterState>(grain);
        Assert.True(read.RecordExists);
        Assert.Equal("third life", read.State.Writer);
        Assert.Equal(reader.ETag, read.ETag);
    }

    [Fact]
    public async Task Clearing_a_never_written_record_leaves_a_tombstone_that_first_writers_cannot_pass()
    {
        var grain = NewGrain();
        var clearer = new GrainState<CounterState>(new CounterState());
        await Storage.ClearStateAsync(StateName, grain, clearer);
        Assert.NotNull(clearer.ETag);
        Assert.False(clearer.RecordExists);

        var writer = new GrainState<CounterState>(new CounterState { Writer = "saw nothing" });
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, grain, writer));
        var read = await ReadAsync<CounterState>(grain);
        Assert.False(read.RecordExists);
        Assert.Equal(clearer.ETag, read.ETag);
    }

    // ---- keys ----------------------------------------------------------------------------------

    [Fact]
    public async Task Different_state_names_and_different_grains_are_independent()
    {
        var grainA = NewGrain();
        var grainB = new GrainId("loan", grainA.Key); // same key, other type
        var a1 = new GrainState<CounterState>(new CounterState { Writer = "A/balance" });
        var a2 = new GrainState<CounterState>(new CounterState { Writer = "A/limits" });
        var b1 = new GrainState<CounterState>(new CounterState { Writer = "B/balance" });
        await Storage.WriteStateAsync("balance", grainA, a1);
        await Storage.WriteStateAsync("limits", grainA, a2);
        await Storage.WriteStateAsync("balance", grainB, b1); // ETag null succeeds: a different record

        await Storage.ClearStateAsync("balance", grainA, a1);
        a2.State.Writer = "A/limits v2";
        await Storage.WriteStateAsync("limits", grainA, a2);

        Assert.False((await ReadAsync<CounterState>(grainA, "balance")).RecordExists);
        Assert.Equal("A/limits v2", (await ReadAsync<CounterState>(grainA, "limits")).State.Writer);
        var readB = await ReadAsync<CounterState>(grainB, "balance");
        Assert.True(readB.RecordExists);
        Assert.Equal("B/balance", readB.State.Writer);
        Assert.Equal(b1.ETag, readB.ETag);
        Assert.False((await ReadAsync<CounterState>(grainB, "limits")).RecordExists);
    }

    [Fact]
    public async Task Different_service_ids_are_isolated()
    {
        var grain = NewGrain();
        var other = await CreateStorageAsync(ServiceId + "-other");
        var mine = new GrainState<CounterState>(new CounterState { Writer = "mine" });
        await Storage.WriteStateAsync(StateName, grain, mine);

        var theirsRead = new GrainState<CounterState>(new CounterState());
        await other.ReadStateAsync(StateName, grain, theirsRead);
        Assert.False(theirsRead.RecordExists);
        Assert.Null(theirsRead.ETag);

        var theirs = new GrainState<CounterState>(new CounterState { Writer = "theirs" });
        await other.WriteStateAsync(StateName, grain, theirs);
        await other.ClearStateAsync(StateName, grain, theirs);

        var read = await ReadAsync<CounterState>(grain);
        Assert.True(read.RecordExists);
        Assert.Equal("mine", read.State.Writer);
        Assert.Equal(mine.ETag, read.ETag);
    }

    [Fact]
    public async Task Invalid_arguments_are_rejected()
    {
        var state = new GrainState<CounterState>(new CounterState());
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Storage.WriteStateAsync("", NewGrain(), state));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Storage.ReadStateAsync(StateName, default, state));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Storage.ClearStateAsync<CounterState>(StateName, NewGrain(), null!));
    }

    // ---- helpers -------------------------------------------------------------------------------

    protected static GrainId NewGrain() => new("account", Guid.NewGuid().ToString("N"));

    protected async Task<GrainState<T>> ReadAsync<T>(GrainId grain, string stateName = StateName) where T : new()
    {
        var state = new GrainState<T>(new T());
        await Storage.ReadStateAsync(stateName, grain, state);
        return state;
    }

    protected static string Json<T>(T value) => System.Text.Encoding.UTF8.GetString(GrainJson.Serialize(value, typeof(T)));

    /// <summary>
    /// Equal as JSON values. Not as text: PostgreSQL's jsonb keeps object keys in its own order, so a
    /// dictionary can come back enumerating in another order (its content is what must not change).
    /// </summary>
    protected static void AssertSameJson<T>(T expected, T actual)
    {
        var expectedJson = Json(expected);
        var actualJson = Json(actual);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expectedJson), JsonNode.Parse(actualJson)),
            $"The states differ as JSON.\nExpected: {expectedJson}\nActual:   {actualJson}");
    }

    protected static AccountState ComplexState()
    {
        var opened = new DateTimeOffset(2024, 2, 29, 23, 59, 59, 123, TimeSpan.FromHours(5.5)).AddTicks(4567);
        return new AccountState
        {
            Owner = "Zoë Ørsted – 北京 🚀 \"q\" \\ \t end",
            Balance = new Money(10.50m, "EUR"),
            Limits = new Dictionary<string, decimal>
            {
                ["daily"] = 0.00m,
                ["max"] = decimal.MaxValue,
                ["tiny"] = 0.0000000000000000000000000001m,
                ["negative"] = -1234567.890m,
            },
            OpenedAt = opened,
            Status = AccountStatus.Frozen,
            Address = new Address("Hauptstraße 1", "Zürich", null),
            OverdraftCents = null,
            Revision = int.MaxValue,
            Postings = Enumerable.Range(0, 50).Select(i => new Posting(
                Guid.NewGuid(),
                new Money(i + 0.10m, i % 2 == 0 ? "EUR" : "CHF"),
                $"posting {i}: Überweisung",
                opened.AddMinutes(i).ToOffset(TimeSpan.FromHours(-i % 12)),
                [$"tag-{i}", "ü", ""])).ToList(),
        };
    }
}

/// <summary>The conformance suite plus what only a durable store promises: data outlives the process.</summary>
public abstract class DurableGrainStorageConformanceTests : GrainStorageConformanceTests
{
    /// <summary>Closes everything open on the store and returns a provider opened afresh.</summary>
    protected abstract Task<IGrainStorage> ReopenAsync(string serviceId);

    // ---- durability ----------------------------------------------------------------------------

    [Fact]
    public async Task Data_survives_reopening_the_store()
    {
        var live = NewGrain();
        var cleared = NewGrain();
        var liveState = new GrainState<AccountState>(ComplexState());
        await Storage.WriteStateAsync(StateName, live, liveState);
        var clearedState = new GrainState<CounterState>(new CounterState { Writer = "gone" });
        await Storage.WriteStateAsync(StateName, cleared, clearedState);
        await Storage.ClearStateAsync(StateName, cleared, clearedState);

        var reopened = await ReopenAsync(ServiceId);

        var read = new GrainState<AccountState>(new AccountState());
        await reopened.ReadStateAsync(StateName, live, read);
        Assert.True(read.RecordExists);
        Assert.Equal(liveState.ETag, read.ETag);
        AssertSameJson(liveState.State, read.State);

        var tombstone = new GrainState<CounterState>(new CounterState());
        await reopened.ReadStateAsync(StateName, cleared, tombstone);
        Assert.False(tombstone.RecordExists);
        Assert.Equal(clearedState.ETag, tombstone.ETag);

        // The ETag from before the restart still works, and the old one does not.
        var staleCopy = new GrainState<CounterState>(new CounterState()) { ETag = null };
        await Assert.ThrowsAsync<InconsistentStateException>(() => reopened.WriteStateAsync(StateName, cleared, staleCopy));
        liveState.State.Owner = "after restart";
        await reopened.WriteStateAsync(StateName, live, liveState);
    }
}
