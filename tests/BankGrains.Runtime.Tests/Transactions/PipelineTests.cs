using System.Collections.Concurrent;
using BankGrains.Runtime.Tests.Transactions.Grains;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

/// <summary>
/// Early lock release and group commit: a hot grain hands its prepared version to the next
/// transaction before the database commit, commits share database transactions, and a transaction
/// built on another one's uncommitted version goes down with it.
/// </summary>
public sealed class PipelineTests
{
    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public async Task Many_transactions_on_a_hot_grain_commit_correctly_in_fewer_database_commits()
    {
        await using var tx = await TxCluster.StartAsync();
        const int transactions = 100;
        const int pipelined = 20;

        // Hold the first database commit until the hot grain has run more transactions on top of
        // it: they can only have done so on its prepared, uncommitted version (early lock release).
        var first = NewGate();
        tx.Store.BeforeCommit = async _ =>
        {
            if (first.TrySetResult())
                Assert.True(await TxCluster.EventuallyAsync(async () => (await tx.Wallet("hot").ProbeAsync()).UpdatesRun >= pipelined, TimeSpan.FromSeconds(10)),
                    "the hot grain did not pass its lock on before the first commit finished");
        };

        var runs = Enumerable.Range(0, transactions).Select(i => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await tx.Wallet($"cold-{i}").AddAsync(1);
            return await tx.Wallet("hot").AddAsync(1);
        })).ToList();
        var seen = await Task.WhenAll(runs);
        tx.Store.BeforeCommit = null;

        Assert.Equal(Enumerable.Range(1, transactions), seen.Order());
        Assert.Equal(transactions, await tx.CommittedAsync("hot"));
        for (var i = 0; i < transactions; i++) Assert.Equal(1, await tx.CommittedAsync($"cold-{i}"));
        // Group commit: the transactions waiting behind the held commit went to the store together.
        Assert.Equal(transactions, tx.Store.Groups.Sum(g => g.Count));
        Assert.True(tx.Store.CommitCalls < transactions, $"{tx.Store.CommitCalls} store commits for {transactions} transactions");
        Assert.True(tx.Store.Groups.Max(g => g.Count) >= pipelined - 1, $"largest group: {tx.Store.Groups.Max(g => g.Count)}");
        await tx.AssertNoLockLeftAsync("hot", "cold-0");
    }

    [Fact]
    public async Task A_transaction_built_on_one_that_aborts_aborts_with_it()
    {
        await using var tx = await TxCluster.StartAsync();
        await tx.SeedAsync(100, "dep-hot");
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();

        // The first commit is held in the store until the second one has built on its version, then fails.
        var firstAtStore = NewGate();
        var failFirst = NewGate();
        tx.Store.BeforeCommit = async group =>
        {
            if (!group.Any(r => r.TransactionId == first)) return;
            firstAtStore.TrySetResult();
            await failFirst.Task;
            throw new InvalidOperationException("connection reset");
        };

        var firstRun = tx.Client.RunTransaction(TransactionOption.Create, () => tx.Wallet("dep-hot").AddAsync(1), first);
        await firstAtStore.Task;
        var secondRun = tx.Client.RunTransaction(TransactionOption.Create, () => tx.Wallet("dep-hot").AddAsync(10), second);
        Assert.True(await TxCluster.EventuallyAsync(async () => (await tx.Wallet("dep-hot").ProbeAsync()).UpdatesRun == 3, TimeSpan.FromSeconds(10)));
        failFirst.TrySetResult();

        var firstAbort = await Assert.ThrowsAsync<TransactionAbortedException>(() => firstRun);
        var secondAbort = await Assert.ThrowsAsync<TransactionAbortedException>(() => secondRun);
        tx.Store.BeforeCommit = null;

        Assert.Equal((first, TransactionAbortReason.StorageFailed), (firstAbort.TransactionId, firstAbort.Reason));
        Assert.Equal((second, TransactionAbortReason.DependencyAborted), (secondAbort.TransactionId, secondAbort.Reason));
        Assert.Equal(TransactionOutcome.Aborted, await tx.Client.ResolveOutcomeAsync(first));
        Assert.Equal(TransactionOutcome.Aborted, await tx.Client.ResolveOutcomeAsync(second));
        Assert.Equal(100, await tx.CommittedAsync("dep-hot"));
        Assert.Equal(new[] { 101 }, await tx.AssertNoLockLeftAsync("dep-hot"));
    }

    [Fact]
    public async Task A_hot_grain_ends_equal_to_its_committed_history_when_some_commits_fail()
    {
        await using var tx = await TxCluster.StartAsync();
        const int transactions = 80;
        var ids = Enumerable.Range(0, transactions).Select(_ => Guid.NewGuid()).ToList();
        var poisoned = ids.Where((_, i) => i % 7 == 3).ToHashSet();

        // A group holding a poisoned transaction fails as a whole (the database commit broke).
        tx.Store.BeforeCommit = group =>
            group.Any(r => poisoned.Contains(r.TransactionId)) ? throw new InvalidOperationException("commit failed") : Task.CompletedTask;

        var amounts = Enumerable.Range(0, transactions).Select(i => 1 + i % 5).ToList();
        var outcomes = await Task.WhenAll(ids.Select(async (id, i) =>
        {
            try
            {
                await tx.Client.RunTransaction(TransactionOption.Create, () => tx.Wallet("history").AddAsync(amounts[i]), id);
                return (Committed: true, Reason: (TransactionAbortReason?)null);
            }
            catch (TransactionAbortedException aborted)
            {
                Assert.Equal(id, aborted.TransactionId);
                return (Committed: false, Reason: aborted.Reason);
            }
        }));
        tx.Store.BeforeCommit = null;

        // What callers were told is what the commit records say, and the state is exactly the committed ones.
        for (var i = 0; i < transactions; i++)
            Assert.Equal(outcomes[i].Committed ? TransactionOutcome.Committed : TransactionOutcome.Aborted, await tx.Client.ResolveOutcomeAsync(ids[i]));
        Assert.All(poisoned, id => Assert.False(outcomes[ids.IndexOf(id)].Committed));
        Assert.Contains(outcomes, o => o.Committed);
        Assert.All(outcomes.Where(o => !o.Committed), o => Assert.Contains(o.Reason,
            new TransactionAbortReason?[] { TransactionAbortReason.StorageFailed, TransactionAbortReason.DependencyAborted, TransactionAbortReason.LockConflict }));
        var expected = Enumerable.Range(0, transactions).Where(i => outcomes[i].Committed).Sum(i => amounts[i]);
        Assert.Equal(expected, await tx.CommittedAsync("history"));
        Assert.Equal(new[] { expected + 1 }, await tx.AssertNoLockLeftAsync("history"));
    }
}
