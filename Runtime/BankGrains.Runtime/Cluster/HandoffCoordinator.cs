using System.Collections.Concurrent;
using System.Net;
using BankGrains.Runtime.Core;
using BankGrains.Runtime.Hosting;
using BankGrains.Runtime.Membership;
using BankGrains.Runtime.Networking;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BankGrains.Runtime.Cluster;

/// <summary>
/// Keeps one activation per grain across view changes. When a silo adopts a view it first
/// deactivates every activation it no longer owns (its running work finishes, then OnDeactivateAsync)
/// and only then counts itself "settled" at that view. A silo creates a NEW activation in a view only
/// after every other Active silo of that view has settled at it: so the previous owner of a grain has
/// let go before the new owner serves it (Orleans' default directory allows duplicates here).
/// Silos that are gone are not waited for: a declared-dead silo stops itself, and its lease stops it
/// from writing before it could be declared dead.
/// </summary>
public sealed class HandoffCoordinator
{
    private readonly IClusterViewSource _views;
    private readonly Catalog _catalog;
    private readonly LocalSilo _self;
    private readonly ConnectionPool _connections;
    private readonly GrainCollectionOptions _collection;
    private readonly ILogger<HandoffCoordinator> _logger;
    private readonly SemaphoreSlim _settling = new(1, 1);
    private readonly ConcurrentDictionary<long, Lazy<Task>> _barriers = new();
    private readonly object _gate = new();
    private long _settledVersion = -1;
    private TaskCompletionSource _settledChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HandoffCoordinator(IClusterViewSource views, Catalog catalog, LocalSilo self, ConnectionPool connections,
        IOptions<GrainCollectionOptions> collection, ILogger<HandoffCoordinator> logger)
    {
        _views = views;
        _catalog = catalog;
        _self = self;
        _connections = connections;
        _collection = collection.Value;
        _logger = logger;
        _views.ViewChanged += view => _ = SettleAsync(view);
    }

    public long SettledVersion => Interlocked.Read(ref _settledVersion);

    /// <summary>Lets go of every grain this silo does not own in <paramref name="view"/>, then records the view as settled.</summary>
    public async Task SettleAsync(ClusterView view)
    {
        await _settling.WaitAsync().ConfigureAwait(false);
        try
        {
            if (view.Version <= SettledVersion) return;
            var self = _self.Address;
            var owned = view.IsActive(self);
            var moved = await _catalog.DeactivateAsync(
                id => !owned || view.OwnerOf(id) != self,
                new DeactivationReason(DeactivationReasonCode.OwnershipMoved, $"not the owner in view {view.Version}"),
                _collection.DeactivationTimeout).ConfigureAwait(false);
            if (moved > 0) _logger.LogInformation("Handed off {Count} activations for {View}", moved, view);
            lock (_gate)
            {
                Interlocked.Exchange(ref _settledVersion, Math.Max(SettledVersion, view.Version));
                _settledChanged.TrySetResult();
                _settledChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        finally
        {
            _settling.Release();
        }
    }

    /// <summary>Answers a peer's barrier request: returns once this silo has settled at <paramref name="version"/> or later.</summary>
    public async Task<long> AwaitSettledAsync(long version)
    {
        if (_views.Current.Version < version) await _views.RefreshAsync().ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(_collection.DeactivationTimeout * 2);
        while (SettledVersion < version)
        {
            Task changed;
            lock (_gate) changed = _settledChanged.Task;
            if (SettledVersion >= version) break;
            if (_views.Current.Version >= version && _views.Current.Version > SettledVersion) _ = SettleAsync(_views.Current);
            await changed.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        return SettledVersion;
    }

    /// <summary>Completes when every Active silo of <paramref name="view"/> has settled at it (computed once per view).</summary>
    public Task EnsureBarrierAsync(ClusterView view, DateTimeOffset deadline)
    {
        var barrier = _barriers.GetOrAdd(view.Version, _ => new Lazy<Task>(() => BarrierAsync(view)));
        if (barrier.Value.IsFaulted)
        {
            // A failed barrier is not remembered: the next caller tries again.
            _barriers.TryRemove(KeyValuePair.Create(view.Version, barrier));
            barrier = _barriers.GetOrAdd(view.Version, _ => new Lazy<Task>(() => BarrierAsync(view)));
        }
        var remaining = deadline - DateTimeOffset.UtcNow;
        return barrier.Value.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
    }

    private async Task BarrierAsync(ClusterView view)
    {
        foreach (var old in _barriers.Keys.Where(v => v < view.Version - 4)) _barriers.TryRemove(old, out _);
        await AwaitSettledAsync(view.Version).ConfigureAwait(false);
        var peers = view.Active.Where(s => s != _self.Address).ToList();
        await Task.WhenAll(peers.Select(peer => AwaitPeerAsync(peer, view))).ConfigureAwait(false);
    }

    private async Task AwaitPeerAsync(SiloAddress peer, ClusterView view)
    {
        var endpoint = new IPEndPoint(IPAddress.Parse(peer.Host), peer.Port);
        while (true)
        {
            try
            {
                await _connections.SendRequestAsync(endpoint, SystemCalls.AwaitSettled(view.Version), DateTimeOffset.UtcNow + _collection.DeactivationTimeout * 2)
                    .ConfigureAwait(false);
                return;
            }
            catch (Exception error)
            {
                // A peer that cannot answer is either about to be declared dead (then it is not waited
                // for) or will answer soon; never assume it has let go.
                var current = await _views.RefreshAsync().ConfigureAwait(false);
                if (current.StatusOf(peer) is null or SiloStatus.Dead) return;
                _logger.LogDebug(error, "Waiting for {Peer} to settle at view {Version}", peer, view.Version);
                await Task.Delay(200).ConfigureAwait(false);
            }
        }
    }
}
