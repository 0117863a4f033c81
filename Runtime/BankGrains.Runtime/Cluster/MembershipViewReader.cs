using BankGrains.Runtime.Membership;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BankGrains.Runtime.Cluster;

/// <summary>
/// Follows the membership table: re-reads it every RefreshPeriod (and on demand, when a message
/// shows that someone knows a newer view) and publishes each newer view. Clients use it alone;
/// silos use it inside <see cref="MembershipService"/>.
/// </summary>
public sealed class MembershipViewReader(IMembershipTable table, IOptions<MembershipOptions> options, ILogger<MembershipViewReader> logger)
    : IClusterViewSource, IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task<ClusterView>? _inFlight;
    private Task? _loop;
    private volatile ClusterView _current = ClusterView.Empty;

    public ClusterView Current => _current;

    public event Action<ClusterView>? ViewChanged;

    /// <summary>Raised with every snapshot read, newer or not (the silo checks its own row in each).</summary>
    internal event Action<MembershipSnapshot>? SnapshotRead;

    public void Start() => _loop ??= LoopAsync(_stopping.Token);

    public Task<ClusterView> RefreshAsync()
    {
        lock (_gate)
        {
            if (_inFlight is { IsCompleted: false }) return _inFlight;
            return _inFlight = ReadAsync();
        }
    }

    private async Task<ClusterView> ReadAsync()
    {
        var snapshot = await table.ReadAllAsync().ConfigureAwait(false);
        SnapshotRead?.Invoke(snapshot);
        return Adopt(snapshot);
    }

    /// <summary>Publishes <paramref name="snapshot"/> if it is newer than the current view.</summary>
    internal ClusterView Adopt(MembershipSnapshot snapshot)
    {
        ClusterView? adopted = null;
        lock (_gate)
        {
            if (snapshot.Version > _current.Version || (_current == ClusterView.Empty && snapshot.Entries.Count > 0))
                _current = adopted = new ClusterView(snapshot);
        }
        if (adopted is not null)
        {
            logger.LogInformation("Adopted membership {View}", adopted);
            ViewChanged?.Invoke(adopted);
        }
        return _current;
    }

    private async Task LoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshPeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try { await RefreshAsync().ConfigureAwait(false); }
                catch (Exception error) { logger.LogWarning(error, "Membership table read failed; keeping {View}", _current); }
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        if (_loop is not null) await _loop.ConfigureAwait(false);
    }
}
