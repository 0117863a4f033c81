namespace BankGrains.Runtime.Cluster;

/// <summary>The membership view a process routes by, and how to catch up with the table.</summary>
public interface IClusterViewSource
{
    ClusterView Current { get; }

    /// <summary>Raised (on a background thread) whenever a newer view is adopted.</summary>
    event Action<ClusterView>? ViewChanged;

    /// <summary>Reads the table now (concurrent callers share one read) and adopts a newer view if there is one.</summary>
    Task<ClusterView> RefreshAsync();
}
