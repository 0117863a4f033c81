using BankGrains.Runtime.Tests.Transactions.Grains;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

/// <summary>
/// A commit whose outcome nobody can learn: the caller gets <see cref="TransactionInDoubtException"/>
/// with the id; once storage is back the id has one definitive outcome, and the participants (which
/// kept the prepared version) settle on that same outcome by themselves after the deadline.
/// </summary>
internal static class InDoubt
{
    // Short, so participants resolve their prepared versions (deadline + 2 s) quickly.
    public static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(1500);
    private static readonly TimeSpan SettleBound = TimeSpan.FromSeconds(15);
    public static readonly string[] Pair = ["doubt-a", "doubt-b"];

    public static async Task<bool> SettledAsync(TxCluster tx) =>
        await TxCluster.EventuallyAsync(async () =>
        {
            foreach (var key in Pair)
                if (!(await tx.Wallet(key).ProbeAsync()).TransactionIdle) return false;
            return true;
        }, SettleBound);

    public static Task Transfer(TxCluster tx, Guid id) => tx.Client.RunTransaction(TransactionOption.Create, async () =>
    {
        await tx.Wallet("doubt-a").AddAsync(-5);
        await tx.Wallet("doubt-b").AddAsync(5);
    }, id);
}

public sealed class InDoubtAbortedTests
{
    private static readonly string[] Pair = InDoubt.Pair;

    [Fact]
    public async Task A_commit_that_never_happened_is_in_doubt_then_resolves_aborted_everywhere()
    {
        await using var tx = await TxCluster.StartAsync(timeout: InDoubt.Timeout);
        await tx.SeedAsync(10, Pair);
        var id = Guid.NewGuid();
        var down = new InvalidOperationException("database unreachable");
        tx.Store.Unreachable = down;

        var doubt = await Assert.ThrowsAsync<TransactionInDoubtException>(() => InDoubt.Transfer(tx, id));

        Assert.Equal(id, doubt.TransactionId);
        Assert.Contains(id.ToString(), doubt.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => tx.Client.ResolveOutcomeAsync(id));
        // The participants keep the prepared version, undecided, and show only committed values.
        Assert.All(await Task.WhenAll(Pair.Select(k => tx.Wallet(k).ProbeAsync())), p => Assert.False(p.TransactionIdle));
        Assert.Equal(10, await tx.CommittedAsync("doubt-a"));

        tx.Store.Unreachable = null;
        Assert.Equal(TransactionOutcome.Aborted, await tx.Client.ResolveOutcomeAsync(id));

        Assert.True(await InDoubt.SettledAsync(tx), "the participants never settled the in-doubt transaction");
        Assert.Equal(10, await tx.CommittedAsync("doubt-a"));
        Assert.Equal(10, await tx.CommittedAsync("doubt-b"));
        Assert.Equal(TransactionOutcome.Aborted, await tx.Client.ResolveOutcomeAsync(id));
        Assert.Equal(new[] { 11, 11 }, await tx.AssertNoLockLeftAsync(Pair));
    }
}

public sealed class InDoubtCommittedTests
{
    private static readonly string[] Pair = InDoubt.Pair;

    [Fact]
    public async Task A_commit_that_happened_is_in_doubt_then_the_participants_settle_it_as_committed()
    {
        await using var tx = await TxCluster.StartAsync(timeout: InDoubt.Timeout);
        await tx.SeedAsync(10, Pair);
        var id = Guid.NewGuid();
        var down = new InvalidOperationException("connection lost after COMMIT");
        // The database applies the commit, then the connection (and the database) are gone.
        tx.Memory.AfterCommit = _ =>
        {
            tx.Store.Unreachable = down;
            throw down;
        };

        var doubt = await Assert.ThrowsAsync<TransactionInDoubtException>(() => InDoubt.Transfer(tx, id));
        tx.Memory.AfterCommit = null;

        Assert.Equal(id, doubt.TransactionId);
        Assert.Equal(10, await tx.CommittedAsync("doubt-a")); // not known to be committed yet

        // Storage comes back; the participants ask it themselves (no one tells them the outcome).
        tx.Store.Unreachable = null;
        Assert.True(await InDoubt.SettledAsync(tx), "the participants never settled the in-doubt transaction");

        Assert.Equal(5, await tx.CommittedAsync("doubt-a"));
        Assert.Equal(15, await tx.CommittedAsync("doubt-b"));
        Assert.Equal(TransactionOutcome.Committed, await tx.Client.ResolveOutcomeAsync(id));
        Assert.Equal(new[] { 6, 16 }, await tx.AssertNoLockLeftAsync(Pair));
    }
}
