using BankGrains.Runtime.Membership;
using BankGrains.Runtime.Placement;

namespace BankGrains.Runtime.Cluster;

/// <summary>
/// One numbered membership view: the Active silos at one table version, and the grain ownership
/// ring they form. Every silo and client that holds the same version agrees on every owner.
/// </summary>
public sealed class ClusterView
{
    public static readonly ClusterView Empty = new(MembershipSnapshotOrEmpty(null));

    public ClusterView(MembershipSnapshot snapshot)
    {
        Snapshot = snapshot;
        Active = snapshot.Entries.Where(e => e.Status == SiloStatus.Active).Select(e => e.Silo).ToArray();
        Ring = new ConsistentHashRing<SiloAddress>(Active, s => s.ToString());
    }

    public long Version => Snapshot.Version;
    public MembershipSnapshot Snapshot { get; }
    public IReadOnlyList<SiloAddress> Active { get; }
    public ConsistentHashRing<SiloAddress> Ring { get; }

    public bool IsActive(SiloAddress silo) => Active.Contains(silo);

    /// <summary>The silo that owns <paramref name="grainId"/> in this view; throws when no silo is active.</summary>
    public SiloAddress OwnerOf(GrainId grainId) => Ring.OwnerOf(grainId);

    public SiloStatus? StatusOf(SiloAddress silo) => Snapshot.Find(silo)?.Status;

    private static MembershipSnapshot MembershipSnapshotOrEmpty(MembershipSnapshot? snapshot) => snapshot ?? new MembershipSnapshot(0, []);

    public override string ToString() => $"view {Version}: {string.Join(", ", Active)}";
}
