using BankGrains.Runtime.Placement;
using Xunit;

namespace BankGrains.Runtime.Tests.Placement;

public sealed class ConsistentHashRingTests
{
    private static readonly GrainId[] Grains = Enumerable.Range(0, 30_000).Select(i => new GrainId("account", Guid.NewGuid().ToString("D"))).ToArray();

    [Fact]
    public void Grains_spread_roughly_evenly_over_silos()
    {
        var ring = new ConsistentHashRing<string>(["10.0.0.1:11111@1", "10.0.0.2:11111@1", "10.0.0.3:11111@1"], s => s);

        var counts = Grains.GroupBy(ring.OwnerOf).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 7_000, 13_000)); // 10,000 each ± 30 %
    }

    [Fact]
    public void Adding_a_silo_moves_only_the_grains_it_takes_over()
    {
        var before = new ConsistentHashRing<string>(["a", "b", "c"], s => s);
        var after = new ConsistentHashRing<string>(["a", "b", "c", "d"], s => s);

        var moved = Grains.Where(g => before.OwnerOf(g) != after.OwnerOf(g)).ToList();

        Assert.All(moved, g => Assert.Equal("d", after.OwnerOf(g)));
        Assert.InRange(moved.Count, Grains.Length / 8, Grains.Length / 2);
    }

    [Fact]
    public void Removing_a_silo_moves_only_its_grains()
    {
        var before = new ConsistentHashRing<string>(["a", "b", "c"], s => s);
        var after = new ConsistentHashRing<string>(["a", "c"], s => s);

        Assert.All(Grains.Where(g => before.OwnerOf(g) != "b"), g => Assert.Equal(before.OwnerOf(g), after.OwnerOf(g)));
    }

    [Fact]
    public void Owners_do_not_depend_on_process_or_input_order()
    {
        var one = new ConsistentHashRing<string>(["x", "y", "z"], s => s);
        var two = new ConsistentHashRing<string>(["z", "x", "y", "x"], s => s);

        Assert.All(Grains.Take(2_000), g => Assert.Equal(one.OwnerOf(g), two.OwnerOf(g)));
        // Pinned values (computed independently): a hash that changed between builds or processes
        // would make silos and clients disagree on owners.
        Assert.Equal(0x22dc48d6bec2b473UL, StableHash.Of("pinned"));
        Assert.Equal(0xf39bad30abb03c14UL, StableHash.Of(new GrainId("account", "42")));
    }

    [Fact]
    public void An_empty_ring_refuses_lookups()
    {
        var ring = new ConsistentHashRing<string>([], s => s);
        Assert.True(ring.IsEmpty);
        Assert.Throws<InvalidOperationException>(() => ring.OwnerOf(Grains[0]));
    }
}
