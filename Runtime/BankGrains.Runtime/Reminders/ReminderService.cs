using System.Collections.Concurrent;
using BankGrains.Runtime.Cluster;
using BankGrains.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BankGrains.Runtime.Reminders;

/// <summary>
/// Serves durable reminders: the table is the truth; this silo keeps a local timer for each reminder
/// of the grains it owns, re-reads the table periodically to pick up changes made elsewhere, and on
/// each tick calls the grain's ReceiveReminder through the runtime (activating it if needed).
/// Ticks missed while no silo was running are not replayed; the next one fires on schedule.
/// </summary>
public sealed class ReminderService(
    IReminderTable table,
    IGrainOwnership ownership,
    IServiceProvider services,
    IOptions<ReminderOptions> options,
    TimeProvider time,
    ILogger<ReminderService> logger) : IDisposable
{
    private readonly ConcurrentDictionary<(GrainId, string), LocalReminder> _local = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task? _refreshLoop;

    public int LocalCount => _local.Count;

    private DateTimeOffset Now => time.GetUtcNow();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // In a cluster each silo serves the reminders of the grains it owns; a new view moves them.
        ownership.Changed += OnOwnershipChanged;
        await RefreshAsync().ConfigureAwait(false);
        _refreshLoop = RefreshLoopAsync(_stopping.Token);
    }

    private void OnOwnershipChanged()
    {
        if (_stopping.IsCancellationRequested) return;
        _ = RefreshAsync().ContinueWith(t => logger.LogWarning(t.Exception, "Reminder refresh after a view change failed"),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    public async Task StopAsync()
    {
        ownership.Changed -= OnOwnershipChanged;
        _stopping.Cancel();
        foreach (var reminder in _local.Values) reminder.Dispose();
        _local.Clear();
        if (_refreshLoop is not null) await _refreshLoop.ConfigureAwait(false);
    }

    public async Task<IGrainReminder> RegisterOrUpdateAsync(GrainId grainId, string name, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (period < options.Value.MinimumPeriod)
            throw new ArgumentOutOfRangeException(nameof(period), period, $"Reminder periods must be at least {options.Value.MinimumPeriod}.");
        if (dueTime < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, "Due time cannot be negative.");
        var entry = new ReminderEntry { GrainId = grainId, ReminderName = name, StartAt = time.GetUtcNow() + dueTime, Period = period };
        var etag = await table.UpsertRowAsync(entry).ConfigureAwait(false);
        Schedule(entry with { ETag = etag });
        return new GrainReminder(name);
    }

    public async Task UnregisterAsync(GrainId grainId, string name)
    {
        if (_local.TryRemove((grainId, name), out var local)) local.Dispose();
        var row = await table.ReadRowAsync(grainId, name).ConfigureAwait(false);
        if (row?.ETag is { } etag && !await table.RemoveRowAsync(grainId, name, etag).ConfigureAwait(false))
            throw new InvalidOperationException($"Reminder '{name}' of {grainId} changed while it was being removed; try again.");
    }

    public async Task<IGrainReminder?> GetAsync(GrainId grainId, string name)
        => await table.ReadRowAsync(grainId, name).ConfigureAwait(false) is { } row ? new GrainReminder(row.ReminderName) : null;

    public async Task<IReadOnlyList<IGrainReminder>> GetAllAsync(GrainId grainId)
        => (await table.ReadRowsAsync(grainId).ConfigureAwait(false)).Select(r => (IGrainReminder)new GrainReminder(r.ReminderName)).ToList();

    /// <summary>Brings local timers in line with the table.</summary>
    public async Task RefreshAsync()
    {
        var rows = await table.ReadAllAsync().ConfigureAwait(false);
        var seen = new HashSet<(GrainId, string)>();
        foreach (var row in rows.Where(r => ownership.IsOwnedLocally(r.GrainId)))
        {
            seen.Add((row.GrainId, row.ReminderName));
            if (!_local.TryGetValue((row.GrainId, row.ReminderName), out var existing) || existing.Entry.ETag != row.ETag) Schedule(row);
        }
        foreach (var key in _local.Keys.Where(k => !seen.Contains(k)).ToList())
            if (_local.TryRemove(key, out var gone)) gone.Dispose();
    }

    private async Task RefreshLoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshPeriod, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try { await RefreshAsync().ConfigureAwait(false); }
                catch (Exception error) { logger.LogWarning(error, "Reminder table refresh failed; keeping the current schedule"); }
            }
        }
        catch (OperationCanceledException) { }
    }

    private void Schedule(ReminderEntry entry)
    {
        var local = new LocalReminder(entry, this);
        _local.AddOrUpdate((entry.GrainId, entry.ReminderName), local, (_, old) => { old.Dispose(); return local; });
        local.Start();
    }

    private async Task FireAsync(ReminderEntry entry, DateTimeOffset tickTime)
    {
        try
        {
            var grain = services.GetRequiredService<IGrainFactory>().GetGrain<IRemindable>(entry.GrainId);
            await grain.ReceiveReminder(entry.ReminderName, new TickStatus(entry.StartAt, entry.Period, tickTime)).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            logger.LogWarning(error, "Reminder '{Reminder}' of {GrainId} failed at {Tick}", entry.ReminderName, entry.GrainId, tickTime);
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        foreach (var reminder in _local.Values) reminder.Dispose();
        _local.Clear();
    }

    /// <summary>The local timer of one reminder; ticks never overlap, the next is scheduled after the call returns.</summary>
    private sealed class LocalReminder(ReminderEntry entry, ReminderService owner) : IDisposable
    {
        private Timer? _timer;
        private volatile bool _disposed;
        private DateTimeOffset _nextTick;

        public ReminderEntry Entry { get; } = entry;

        public void Start()
        {
            _nextTick = NextTickAtOrAfter(owner.Now);
            _timer = new Timer(static s => _ = ((LocalReminder)s!).OnDueAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Arm();
        }

        private DateTimeOffset NextTickAtOrAfter(DateTimeOffset now)
        {
            if (now <= Entry.StartAt) return Entry.StartAt;
            var elapsed = (now - Entry.StartAt).Ticks;
            var periods = (elapsed + Entry.Period.Ticks - 1) / Entry.Period.Ticks;
            return Entry.StartAt + TimeSpan.FromTicks(Entry.Period.Ticks * periods);
        }

        private void Arm()
        {
            if (_disposed) return;
            var delay = _nextTick - owner.Now;
            try { _timer!.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan); }
            catch (ObjectDisposedException) { }
        }

        private async Task OnDueAsync()
        {
            if (_disposed) return;
            var tick = _nextTick;
            await owner.FireAsync(Entry, tick).ConfigureAwait(false);
            _nextTick = NextTickAtOrAfter(owner.Now);
            if (_nextTick <= tick) _nextTick = tick + Entry.Period;
            Arm();
        }

        public void Dispose()
        {
            _disposed = true;
            _timer?.Dispose();
        }
    }
}
