using BankGrains.Runtime.Membership;
using Xunit;

namespace BankGrains.Runtime.Tests.Membership;

public sealed class InMemoryMembershipTableTests : MembershipTableContractTests
{
    // The store every table of one test shares, as the silos of an in-process cluster do.
    private readonly InMemoryMembershipTable _root = new("root");

    protected override IMembershipTable CreateTable(string clusterId) => _root.ForCluster(clusterId);

    [Fact]
    public async Task An_unavailable_instance_throws_and_changes_nothing_while_others_still_work()
    {
        var cutOff = (InMemoryMembershipTable)CreateTable(ClusterId);
        var entry = Entry(Silo(1), SiloStatus.Dead, alive: T0.AddDays(-1));
        Assert.True(await Table.InsertRowAsync(entry, 0));
        var before = await Table.ReadAllAsync();

        cutOff.Unavailable = true;

        await Assert.ThrowsAsync<MembershipTableUnavailableException>(() => cutOff.InitializeAsync(CancellationToken.None));
        await Assert.ThrowsAsync<MembershipTableUnavailableException>(cutOff.ReadAllAsync);
        await Assert.ThrowsAsync<MembershipTableUnavailableException>(() => cutOff.InsertRowAsync(Entry(Silo(2)), 1));
        await Assert.ThrowsAsync<MembershipTableUnavailableException>(() => cutOff.UpdateRowAsync(entry with { SiloName = "x" }, 1));
        await Assert.ThrowsAsync<MembershipTableUnavailableException>(() => cutOff.UpdateIAmAliveAsync(entry.Silo, T0));
        await Assert.ThrowsAsync<MembershipTableUnavailableException>(() => cutOff.CleanupDefunctEntriesAsync(T0));
        await Assert.ThrowsAsync<MembershipTableUnavailableException>(cutOff.DeleteClusterAsync);
        Assert.Equal(before, await Table.ReadAllAsync());

        cutOff.Unavailable = false;
        Assert.Equal(1, await cutOff.CleanupDefunctEntriesAsync(T0));
    }
}
