using System.Diagnostics;
using System.Net;
using BankGrains.Runtime.Membership;
using BankGrains.Runtime.Networking;
using BankGrains.Runtime.Persistence;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BankGrains.Runtime.Cluster;

/// <summary>
/// A silo's part in membership: joins the table, heartbeats, probes the silos it watches over the
/// messaging connections, votes suspicions and declares silos dead (each a compare-and-swap on the
/// table version), and stops this silo at once when it finds itself declared dead. It also holds
/// the silo's lease: the time of the last table read showing this silo Active. Grain-state writes
/// and incoming calls need a fresh lease, so a silo that was paused longer than others need to
/// declare it dead re-reads the table before it acts again.
/// </summary>
public sealed class MembershipService : IGrainWriteFence, IAsyncDisposable
{
    private readonly IMembershipTable _table;
    private readonly MembershipViewReader _reader;
    private readonly ConnectionPool _connections;
    private readonly LocalSilo _self;
    private readonly MembershipOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<MembershipService> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<SiloAddress, int> _missedProbes = new();
    private readonly List<Task> _loops = new();
    private long _confirmedActiveAt = long.MinValue;
    private int _declaredDead;
    private volatile bool _joined;

    public MembershipService(IMembershipTable table, MembershipViewReader reader, ConnectionPool connections, LocalSilo self,
        IOptions<MembershipOptions> options, TimeProvider time, ILogger<MembershipService> logger)
    {
        _table = table;
        _reader = reader;
        _connections = connections;
        _self = self;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _reader.SnapshotRead += OnSnapshotRead;
    }

    /// <summary>Raised once, when this silo finds itself declared dead (or its row gone).</summary>
    public event Action? DeclaredDead;

    public bool IsDeclaredDead => Volatile.Read(ref _declaredDead) != 0;

    public bool IsLeaseValid =>
        !IsDeclaredDead && Stopwatch.GetElapsedTime(Interlocked.Read(ref _confirmedActiveAt)) < _options.Lease;

    /// <summary>Inserts this silo as Joining, then makes it Active, and starts heartbeats, probes and refreshes.</summary>
    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        await _table.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var entry = new MembershipEntry(_self.Address, _self.Name, _self.HostName, SiloStatus.Joining, now, now);
        await ChangeRowAsync(_ => entry, insert: true, cancellationToken).ConfigureAwait(false);
        _joined = true;
        await ChangeRowAsync(current => current with { Status = SiloStatus.Active, IAmAliveTime = _time.GetUtcNow() }, insert: false, cancellationToken)
            .ConfigureAwait(false);
        await _reader.RefreshAsync().ConfigureAwait(false);
        _reader.Start();
        _loops.Add(HeartbeatLoopAsync(_stopping.Token));
        _loops.Add(ProbeLoopAsync(_stopping.Token));
        _loops.Add(CleanupLoopAsync(_stopping.Token));
        _logger.LogInformation("Silo {Silo} joined {View}", _self.Address, _reader.Current);
    }

    /// <summary>Graceful leave, step one: ShuttingDown takes this silo out of every view's ring.</summary>
    public Task BeginLeavingAsync(CancellationToken cancellationToken) =>
        ChangeRowAsync(current => current with { Status = SiloStatus.ShuttingDown }, insert: false, cancellationToken);

    /// <summary>Graceful leave, last step: the row says Dead, so nobody waits for this silo again.</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        try
        {
            await ChangeRowAsync(current => current with { Status = SiloStatus.Dead }, insert: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            // Others will find out by probing; leaving must not hang on an unreachable table.
            _logger.LogWarning(error, "Could not mark silo {Silo} dead on leaving", _self.Address);
        }
    }

    /// <summary>Stops all membership activity without touching the table (a crash, as others see it).</summary>
    public void Halt() => _stopping.Cancel();

    /// <summary>
    /// May this silo serve a call now? Yes with a valid lease. Otherwise it re-reads the table: if it
    /// is still Active the lease is renewed; if it was declared dead, no. If the table cannot be read
    /// at all, nobody can have declared it dead since its lease ran out either, so it keeps serving
    /// what it owns (writes stay fenced: by the lease here and by the database itself).
    /// </summary>
    public async ValueTask<bool> MayServeAsync()
    {
        if (IsLeaseValid) return true;
        if (IsDeclaredDead) return false;
        try
        {
            await _reader.RefreshAsync().ConfigureAwait(false);
        }
        catch (Exception error)
        {
            _logger.LogWarning(error, "Membership table unreachable; serving owned grains without a fresh lease");
            return !IsDeclaredDead;
        }
        return IsLeaseValid;
    }

    public async ValueTask EnsureCanWriteAsync()
    {
        if (IsLeaseValid) return;
        if (!IsDeclaredDead)
        {
            try { await _reader.RefreshAsync().ConfigureAwait(false); }
            catch (Exception error) { _logger.LogWarning(error, "Lease renewal failed"); }
        }
        if (!IsLeaseValid)
            throw new SiloLeaseExpiredException(IsDeclaredDead
                ? $"Silo {_self.Address} was declared dead; it may not write."
                : $"Silo {_self.Address} could not confirm its membership within {_options.Lease}; it may not write until it does.");
    }

    private void OnSnapshotRead(MembershipSnapshot snapshot)
    {
        if (!_joined) return;
        var mine = snapshot.Find(_self.Address);
        if (mine is { Status: SiloStatus.Active or SiloStatus.Joining or SiloStatus.ShuttingDown })
        {
            if (mine.Status == SiloStatus.Active) Interlocked.Exchange(ref _confirmedActiveAt, Stopwatch.GetTimestamp());
            return;
        }
        // Our row says Dead (or was removed after we were declared dead): the cluster has moved on
        // without us, so nothing this silo does may count any more.
        if (Interlocked.Exchange(ref _declaredDead, 1) == 0)
        {
            _logger.LogCritical("Silo {Silo} was declared dead by the cluster; stopping at once", _self.Address);
            _stopping.Cancel();
            DeclaredDead?.Invoke();
        }
    }

    /// <summary>Applies <paramref name="change"/> to this silo's row with compare-and-swap, re-reading on conflict.</summary>
    private async Task ChangeRowAsync(Func<MembershipEntry, MembershipEntry> change, bool insert, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var snapshot = await _table.ReadAllAsync().ConfigureAwait(false);
            var current = snapshot.Find(_self.Address);
            bool written;
            if (insert)
            {
                written = current is null && await _table.InsertRowAsync(change(null!), snapshot.Version).ConfigureAwait(false);
                if (current is not null) return;
            }
            else
            {
                if (current is null) throw new InvalidOperationException($"Silo {_self.Address} has no membership row.");
                if (current.Status == SiloStatus.Dead && !IsDeclaredDead) { OnSnapshotRead(snapshot); return; }
                written = await _table.UpdateRowAsync(change(current), snapshot.Version).ConfigureAwait(false);
            }
            if (written)
            {
                _reader.Adopt(await _table.ReadAllAsync().ConfigureAwait(false));
                return;
            }
            if (attempt > 50) throw new InvalidOperationException($"Could not update membership of {_self.Address}: the table kept changing.");
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 50)), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.IAmAlivePeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try { await _table.UpdateIAmAliveAsync(_self.Address, _time.GetUtcNow()).ConfigureAwait(false); }
                catch (Exception error) { _logger.LogWarning(error, "IAmAlive write failed"); }
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task ProbeLoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.ProbePeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                var targets = SilosToWatch(_reader.Current);
                await Task.WhenAll(targets.Select(t => ProbeAsync(t, stopping))).ConfigureAwait(false);
                foreach (var gone in _missedProbes.Keys.Except(targets).ToList()) _missedProbes.Remove(gone);
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>The next silos after this one in address order: each silo is watched by several others.</summary>
    private List<SiloAddress> SilosToWatch(ClusterView view)
    {
        var others = view.Active.Where(s => s != _self.Address).OrderBy(s => s).ToList();
        var after = others.Where(s => s.CompareTo(_self.Address) > 0).Concat(others.Where(s => s.CompareTo(_self.Address) < 0));
        return after.Take(_options.ProbedSilos).ToList();
    }

    private async Task ProbeAsync(SiloAddress target, CancellationToken stopping)
    {
        bool answered;
        try
        {
            await _connections.PingAsync(new IPEndPoint(IPAddress.Parse(target.Host), target.Port), _options.ProbePeriod, stopping).ConfigureAwait(false);
            answered = true;
        }
        catch (Exception) when (!stopping.IsCancellationRequested)
        {
            answered = false;
        }
        int missed;
        lock (_missedProbes)
        {
            missed = _missedProbes[target] = answered ? 0 : _missedProbes.GetValueOrDefault(target) + 1;
        }
        if (missed >= _options.MissedProbesLimit)
        {
            _logger.LogWarning("Silo {Target} missed {Missed} probes; voting it dead", target, missed);
            try { await SuspectAsync(target).ConfigureAwait(false); }
            catch (Exception error) { _logger.LogWarning(error, "Could not write a suspicion of {Target}", target); }
        }
    }

    /// <summary>Adds this silo's vote; with enough fresh votes the same write declares the silo dead.</summary>
    internal async Task SuspectAsync(SiloAddress target)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var snapshot = await _table.ReadAllAsync().ConfigureAwait(false);
            var entry = snapshot.Find(target);
            if (entry is null || entry.Status == SiloStatus.Dead)
            {
                _reader.Adopt(snapshot);
                return;
            }
            var now = _time.GetUtcNow();
            var votes = entry.Suspicions
                .Where(s => s.Suspecter != _self.Address && now - s.At < _options.VoteExpiration)
                .Append(new Suspicion(_self.Address, now))
                .ToList();
            var voters = snapshot.Entries.Count(e => e.Status == SiloStatus.Active && e.Silo != target);
            var needed = Math.Max(1, Math.Min(_options.VotesForDeath, voters));
            var dead = votes.Count >= needed;
            if (await _table.UpdateRowAsync(entry with { Suspicions = votes, Status = dead ? SiloStatus.Dead : entry.Status }, snapshot.Version)
                    .ConfigureAwait(false))
            {
                if (dead) _logger.LogWarning("Declared silo {Target} dead ({Votes} votes)", target, votes.Count);
                _reader.Adopt(await _table.ReadAllAsync().ConfigureAwait(false));
                return;
            }
        }
    }

    private async Task CleanupLoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(10));
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try { await _table.CleanupDefunctEntriesAsync(_time.GetUtcNow() - _options.DefunctRowAge).ConfigureAwait(false); }
                catch (Exception error) { _logger.LogDebug(error, "Defunct row cleanup failed"); }
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _reader.SnapshotRead -= OnSnapshotRead;
        await Task.WhenAll(_loops).ConfigureAwait(false);
    }
}

/// <summary>This silo may not write: it could not confirm it is still a member (or it was declared dead).</summary>
public sealed class SiloLeaseExpiredException(string message) : Exception(message);
