namespace BankGrains.Runtime.Placement;

/// <summary>
/// Maps grain ids to nodes: each node has <see cref="VirtualNodesPerNode"/> points on a 64-bit ring and
/// a grain belongs to the first point at or after its hash. Adding or removing one node moves only
/// the grains on that node's arcs. Immutable: a new membership view builds a new ring.
/// </summary>
public sealed class ConsistentHashRing<TNode> where TNode : notnull
{
    public const int VirtualNodesPerNode = 64;

    private readonly ulong[] _points;
    private readonly TNode[] _owners;

    public ConsistentHashRing(IEnumerable<TNode> nodes, Func<TNode, string> nodeKey)
    {
        Nodes = nodes.Distinct().OrderBy(nodeKey, StringComparer.Ordinal).ToArray();
        var points = new List<(ulong Point, TNode Node)>(Nodes.Count * VirtualNodesPerNode);
        foreach (var node in Nodes)
        {
            var key = nodeKey(node);
            for (var i = 0; i < VirtualNodesPerNode; i++) points.Add((StableHash.Of($"{key}#{i}"), node));
        }
        points.Sort((a, b) => a.Point.CompareTo(b.Point));
        _points = points.Select(p => p.Point).ToArray();
        _owners = points.Select(p => p.Node).ToArray();
    }

    public IReadOnlyList<TNode> Nodes { get; }

    public bool IsEmpty => _points.Length == 0;

    public TNode OwnerOf(GrainId grainId)
    {
        if (_points.Length == 0) throw new InvalidOperationException("The ring has no nodes: no silo is active.");
        var index = Array.BinarySearch(_points, StableHash.Of(grainId));
        if (index < 0) index = ~index;
        return _owners[index == _points.Length ? 0 : index];
    }
}
