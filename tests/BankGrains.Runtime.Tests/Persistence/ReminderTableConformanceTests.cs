using BankGrains.Runtime.Reminders;
using Xunit;

namespace BankGrains.Runtime.Tests.Persistence;

/// <summary>
/// The <see cref="IReminderTable"/> contract, run against every table. A concrete class only says how
/// to create its table. Each test uses its own service id, so tests may share a store.
/// </summary>
public abstract class ReminderTableConformanceTests : IAsyncLifetime
{
    protected string ServiceId { get; } = "svc-" + Guid.NewGuid().ToString("N")[..12];

    protected IReminderTable Table { get; private set; } = null!;

    /// <summary>A table for <paramref name="serviceId"/>; two tables for one service id see the same rows.</summary>
    protected abstract Task<IReminderTable> CreateTableAsync(string serviceId);

    protected virtual Task CleanupAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => Table = await CreateTableAsync(ServiceId);

    public Task DisposeAsync() => CleanupAsync();

    [Fact]
    public async Task Reading_missing_reminders_gives_nothing()
    {
        var grain = NewGrain();
        Assert.Null(await Table.ReadRowAsync(grain, "interest"));
        Assert.Empty(await Table.ReadRowsAsync(grain));
        Assert.Empty(await Table.ReadAllAsync());
    }

    [Fact]
    public async Task Upsert_then_read_round_trips_the_entry_with_the_returned_etag()
    {
        var grain = new GrainId("account", "ünïcode/with slash ✓");
        var entry = Entry(grain, "monthly-interest ✓",
            new DateTimeOffset(2025, 3, 30, 1, 30, 15, 250, TimeSpan.FromHours(2)).AddTicks(1234),
            TimeSpan.FromMinutes(15) + TimeSpan.FromMilliseconds(250));

        var etag = await Table.UpsertRowAsync(entry);

        var read = await Table.ReadRowAsync(grain, entry.ReminderName);
        Assert.NotNull(read);
        Assert.Equal(etag, read.ETag);
        Assert.Equal(grain, read.GrainId);
        Assert.Equal(entry.ReminderName, read.ReminderName);
        Assert.Equal(entry.Period, read.Period);
        // Stored in UTC, to the microsecond (what PostgreSQL keeps): the same instant, offset 0.
        Assert.Equal(TimeSpan.Zero, read.StartAt.Offset);
        Assert.Equal(entry.StartAt.UtcTicks - 4, read.StartAt.UtcTicks);
    }

    [Fact]
    public async Task Upserting_an_existing_reminder_replaces_it_and_returns_a_new_etag()
    {
        var grain = NewGrain();
        var first = await Table.UpsertRowAsync(Entry(grain, "fee", Start, TimeSpan.FromHours(1)));
        var second = await Table.UpsertRowAsync(Entry(grain, "fee", Start.AddDays(1), TimeSpan.FromHours(2)));

        Assert.NotEqual(first, second);
        var rows = await Table.ReadRowsAsync(grain);
        var row = Assert.Single(rows);
        Assert.Equal(second, row.ETag);
        Assert.Equal(Start.AddDays(1), row.StartAt);
        Assert.Equal(TimeSpan.FromHours(2), row.Period);
    }

    [Fact]
    public async Task ReadRows_returns_one_grains_reminders_and_ReadAll_the_whole_services_in_order()
    {
        var a = new GrainId("account", "a");
        var b = new GrainId("account", "b");
        await Table.UpsertRowAsync(Entry(b, "z", Start, TimeSpan.FromMinutes(1)));
        await Table.UpsertRowAsync(Entry(a, "y", Start, TimeSpan.FromMinutes(1)));
        await Table.UpsertRowAsync(Entry(a, "X", Start, TimeSpan.FromMinutes(1)));
        await Table.UpsertRowAsync(Entry(new GrainId("account", "ab"), "x", Start, TimeSpan.FromMinutes(1)));

        var ofA = await Table.ReadRowsAsync(a);
        Assert.Equal(["X", "y"], ofA.Select(r => r.ReminderName)); // ordinal: upper case first
        Assert.All(ofA, r => Assert.Equal(a, r.GrainId));

        var all = await Table.ReadAllAsync();
        Assert.Equal(["account/a:X", "account/a:y", "account/ab:x", "account/b:z"], all.Select(r => $"{r.GrainId}:{r.ReminderName}"));
    }

    [Fact]
    public async Task Remove_with_the_current_etag_removes_the_reminder_once()
    {
        var grain = NewGrain();
        var etag = await Table.UpsertRowAsync(Entry(grain, "statement", Start, TimeSpan.FromDays(1)));
        await Table.UpsertRowAsync(Entry(grain, "other", Start, TimeSpan.FromDays(1)));

        Assert.True(await Table.RemoveRowAsync(grain, "statement", etag));
        Assert.Null(await Table.ReadRowAsync(grain, "statement"));
        Assert.False(await Table.RemoveRowAsync(grain, "statement", etag));
        Assert.NotNull(await Table.ReadRowAsync(grain, "other"));
    }

    [Fact]
    public async Task Remove_with_a_stale_or_foreign_etag_fails_and_keeps_the_reminder()
    {
        var grain = NewGrain();
        var stale = await Table.UpsertRowAsync(Entry(grain, "statement", Start, TimeSpan.FromDays(1)));
        var current = await Table.UpsertRowAsync(Entry(grain, "statement", Start, TimeSpan.FromDays(7)));
        var foreign = await Table.UpsertRowAsync(Entry(grain, "other", Start, TimeSpan.FromDays(1)));

        Assert.False(await Table.RemoveRowAsync(grain, "statement", stale));
        Assert.False(await Table.RemoveRowAsync(grain, "statement", foreign));
        Assert.False(await Table.RemoveRowAsync(grain, "statement", "not-a-version"));
        Assert.False(await Table.RemoveRowAsync(grain, "missing", current));
        var row = await Table.ReadRowAsync(grain, "statement");
        Assert.Equal(current, row?.ETag);
    }

    [Fact]
    public async Task An_etag_from_before_a_remove_and_recreate_cannot_remove_the_new_reminder()
    {
        var grain = NewGrain();
        var old = await Table.UpsertRowAsync(Entry(grain, "payout", Start, TimeSpan.FromHours(1)));
        Assert.True(await Table.RemoveRowAsync(grain, "payout", old));
        var recreated = await Table.UpsertRowAsync(Entry(grain, "payout", Start, TimeSpan.FromHours(1)));

        Assert.NotEqual(old, recreated);
        Assert.False(await Table.RemoveRowAsync(grain, "payout", old));
        Assert.Equal(recreated, (await Table.ReadRowAsync(grain, "payout"))?.ETag);
    }

    [Fact]
    public async Task Concurrent_removes_with_the_same_etag_exactly_one_succeeds()
    {
        var grain = NewGrain();
        var etag = await Table.UpsertRowAsync(Entry(grain, "once", Start, TimeSpan.FromHours(1)));
        var second = await CreateTableAsync(ServiceId);
        var tables = new[] { Table, second };

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var removes = Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await tables[i % 2].RemoveRowAsync(grain, "once", etag);
        })).ToArray();
        start.SetResult();

        Assert.Equal(1, (await Task.WhenAll(removes)).Count(removed => removed));
        Assert.Null(await Table.ReadRowAsync(grain, "once"));
    }

    [Fact]
    public async Task Concurrent_upserts_get_distinct_etags_and_the_stored_row_is_the_one_its_etag_names()
    {
        var grain = NewGrain();
        var second = await CreateTableAsync(ServiceId);
        var tables = new[] { Table, second };

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upserts = Enumerable.Range(1, 10).Select(i => Task.Run(async () =>
        {
            await start.Task;
            var etag = await tables[i % 2].UpsertRowAsync(Entry(grain, "race", Start, TimeSpan.FromSeconds(i)));
            return (ETag: etag, Period: TimeSpan.FromSeconds(i));
        })).ToArray();
        start.SetResult();
        var results = await Task.WhenAll(upserts);

        Assert.Equal(results.Length, results.Select(r => r.ETag).Distinct().Count());
        var row = Assert.Single(await Table.ReadRowsAsync(grain));
        Assert.Equal(results.Single(r => r.ETag == row.ETag).Period, row.Period);
    }

    [Fact]
    public async Task Different_service_ids_are_isolated()
    {
        var grain = NewGrain();
        var other = await CreateTableAsync(ServiceId + "-other");
        var mine = await Table.UpsertRowAsync(Entry(grain, "shared-name", Start, TimeSpan.FromHours(1)));
        var theirs = await other.UpsertRowAsync(Entry(grain, "shared-name", Start, TimeSpan.FromHours(9)));

        Assert.Equal(TimeSpan.FromHours(1), (await Table.ReadRowAsync(grain, "shared-name"))?.Period);
        Assert.Single(await Table.ReadAllAsync());
        Assert.True(await other.RemoveRowAsync(grain, "shared-name", theirs));
        Assert.Equal(mine, (await Table.ReadRowAsync(grain, "shared-name"))?.ETag);
        Assert.Empty(await other.ReadAllAsync());
    }

    [Fact]
    public async Task Invalid_entries_are_rejected()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Table.UpsertRowAsync(Entry(NewGrain(), "neg", Start, TimeSpan.FromSeconds(-1))));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Table.UpsertRowAsync(Entry(NewGrain(), "", Start, TimeSpan.FromSeconds(1))));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Table.UpsertRowAsync(Entry(default, "x", Start, TimeSpan.FromSeconds(1))));
    }

    protected static readonly DateTimeOffset Start = new(2025, 1, 31, 23, 0, 0, TimeSpan.Zero);

    protected static GrainId NewGrain() => new("account", Guid.NewGuid().ToString("N"));

    protected static ReminderEntry Entry(GrainId grain, string name, DateTimeOffset startAt, TimeSpan period) => new()
    {
        GrainId = grain,
        ReminderName = name,
        StartAt = startAt,
        Period = period,
    };
}

/// <summary>The conformance suite plus what only a durable table promises: reminders outlive the process.</summary>
public abstract class DurableReminderTableConformanceTests : ReminderTableConformanceTests
{
    /// <summary>Closes everything open on the store and returns a table opened afresh.</summary>
    protected abstract Task<IReminderTable> ReopenAsync(string serviceId);

    [Fact]
    public async Task Reminders_survive_reopening_the_store()
    {
        var grain = NewGrain();
        var kept = await Table.UpsertRowAsync(Entry(grain, "kept", Start, TimeSpan.FromDays(30)));
        var removed = await Table.UpsertRowAsync(Entry(grain, "removed", Start, TimeSpan.FromDays(1)));
        Assert.True(await Table.RemoveRowAsync(grain, "removed", removed));

        var reopened = await ReopenAsync(ServiceId);

        var row = Assert.Single(await reopened.ReadAllAsync());
        Assert.Equal("kept", row.ReminderName);
        Assert.Equal(kept, row.ETag);
        Assert.Equal(Start, row.StartAt);
        Assert.Equal(TimeSpan.FromDays(30), row.Period);
        // Versions keep counting after a restart: a new incarnation never reuses an old ETag.
        var recreated = await reopened.UpsertRowAsync(Entry(grain, "removed", Start, TimeSpan.FromDays(1)));
        Assert.NotEqual(removed, recreated);
        Assert.NotEqual(kept, recreated);
    }
}
