namespace BankGrains.Runtime.Membership;

/// <summary>
/// The membership table in memory, for in-process test clusters: one instance (or instances made
/// with <see cref="ForCluster"/>, which share its store) is given to every silo of the test cluster.
/// Same compare-and-swap semantics as <see cref="PostgresMembershipTable"/>; thread-safe.
/// </summary>
/// <remarks>
/// Each cluster is held as one immutable <see cref="MembershipSnapshot"/>, replaced whole under a
/// lock on every change, so a read is consistent by construction. Every call completes
/// asynchronously, as a database call would, so callers cannot come to rely on inline completion.
/// </remarks>
public sealed class InMemoryMembershipTable : IMembershipTable
{
    // Shared by every table made from the same root: cluster id → its current snapshot.
    private readonly Dictionary<string, MembershipSnapshot> _clusters;
    private readonly string _clusterId;
    private volatile bool _unavailable;

    public InMemoryMembershipTable(string clusterId)
        : this(new Dictionary<string, MembershipSnapshot>(StringComparer.Ordinal), clusterId)
    {
    }

    private InMemoryMembershipTable(Dictionary<string, MembershipSnapshot> clusters, string clusterId)
    {
        ArgumentException.ThrowIfNullOrEmpty(clusterId);
        _clusters = clusters;
        _clusterId = clusterId;
    }

    /// <summary>
    /// Simulates an unreachable database for calls through this instance: while true, every method
    /// throws <see cref="MembershipTableUnavailableException"/> and changes nothing. Set it on one silo's
    /// instance to cut that silo off, or on every instance to take the whole store down.
    /// </summary>
    public bool Unavailable
    {
        get => _unavailable;
        set => _unavailable = value;
    }

    /// <summary>A table for <paramref name="clusterId"/> over the same store (as another cluster, or another silo, would use one database).</summary>
    public InMemoryMembershipTable ForCluster(string clusterId) => new(_clusters, clusterId);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await EnterAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_clusters)
        {
            _clusters.TryAdd(_clusterId, new MembershipSnapshot(0, []));
        }
    }

    public async Task<MembershipSnapshot> ReadAllAsync()
    {
        await EnterAsync().ConfigureAwait(false);
        lock (_clusters)
        {
            return _clusters.TryGetValue(_clusterId, out var snapshot) ? snapshot : throw PostgresMembershipTable.NotInitialized(_clusterId);
        }
    }

    public async Task<bool> InsertRowAsync(MembershipEntry entry, long expectedVersion)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await EnterAsync().ConfigureAwait(false);
        lock (_clusters)
        {
            if (!_clusters.TryGetValue(_clusterId, out var current) || current.Version != expectedVersion || current.Find(entry.Silo) is not null)
                return false;
            _clusters[_clusterId] = new MembershipSnapshot(current.Version + 1, current.Entries.Append(entry));
            return true;
        }
    }

    public async Task<bool> UpdateRowAsync(MembershipEntry entry, long expectedVersion)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await EnterAsync().ConfigureAwait(false);
        lock (_clusters)
        {
            if (!_clusters.TryGetValue(_clusterId, out var current) || current.Version != expectedVersion || current.Find(entry.Silo) is not { } stored)
                return false;
            // The heartbeat never goes backwards, as in PostgreSQL's GREATEST(stored, given).
            var replacement = entry.IAmAliveTime >= stored.IAmAliveTime ? entry : entry with { IAmAliveTime = stored.IAmAliveTime };
            _clusters[_clusterId] = new MembershipSnapshot(current.Version + 1, current.Entries.Select(e => e.Silo == entry.Silo ? replacement : e));
            return true;
        }
    }

    public async Task UpdateIAmAliveAsync(SiloAddress silo, DateTimeOffset at)
    {
        if (silo.IsDefault) throw new ArgumentException("A heartbeat needs a silo address.", nameof(silo));
        await EnterAsync().ConfigureAwait(false);
        lock (_clusters)
        {
            if (!_clusters.TryGetValue(_clusterId, out var current) || current.Find(silo) is not { } stored) return;
            var normalized = MembershipTime.Normalize(at);
            if (normalized <= stored.IAmAliveTime) return;
            var replacement = stored with { IAmAliveTime = normalized };
            // Same version: a heartbeat is not a membership change.
            _clusters[_clusterId] = new MembershipSnapshot(current.Version, current.Entries.Select(e => e.Silo == silo ? replacement : e));
        }
    }

    public async Task<int> CleanupDefunctEntriesAsync(DateTimeOffset olderThan)
    {
        await EnterAsync().ConfigureAwait(false);
        var cutoff = MembershipTime.Normalize(olderThan);
        lock (_clusters)
        {
            if (!_clusters.TryGetValue(_clusterId, out var current)) return 0;
            var kept = current.Entries.Where(e => !(e.Status == SiloStatus.Dead && e.IAmAliveTime < cutoff)).ToArray();
            var deleted = current.Entries.Count - kept.Length;
            if (deleted > 0) _clusters[_clusterId] = new MembershipSnapshot(current.Version + 1, kept);
            return deleted;
        }
    }

    public async Task DeleteClusterAsync()
    {
        await EnterAsync().ConfigureAwait(false);
        lock (_clusters)
        {
            _clusters.Remove(_clusterId);
        }
    }

    private async Task EnterAsync()
    {
        await Task.Yield();
        if (_unavailable)
            throw new MembershipTableUnavailableException(_clusterId, $"The membership table of cluster '{_clusterId}' is unavailable (simulated).");
    }
}
