namespace BankGrains.Runtime.Cluster;

/// <summary>Whether this silo owns a grain now (reminders fire where their grain is owned).</summary>
public interface IGrainOwnership
{
    bool IsOwnedLocally(GrainId grainId);

    /// <summary>Raised when ownership may have changed (a new view).</summary>
    event Action? Changed;
}

/// <summary>A single silo owns every grain.</summary>
internal sealed class SingleSiloOwnership : IGrainOwnership
{
    public bool IsOwnedLocally(GrainId grainId) => true;

    public event Action? Changed { add { } remove { } }
}

/// <summary>In a cluster: the ring owner in the current view.</summary>
internal sealed class ViewOwnership : IGrainOwnership
{
    private readonly IClusterViewSource _views;
    private readonly LocalSilo _self;

    public ViewOwnership(IClusterViewSource views, LocalSilo self)
    {
        _views = views;
        _self = self;
        views.ViewChanged += _ => Changed?.Invoke();
    }

    public bool IsOwnedLocally(GrainId grainId)
    {
        var view = _views.Current;
        return _self.IsBound && view.IsActive(_self.Address) && view.OwnerOf(grainId) == _self.Address;
    }

    public event Action? Changed;
}
