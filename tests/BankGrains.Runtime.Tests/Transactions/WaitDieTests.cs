using System.Collections.Concurrent;
using BankGrains.Runtime.Tests.Transactions.Grains;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

/// <summary>
/// Wait-die on a grain's transaction lock: an older transaction waits for a younger holder, a younger
/// one dies at once (LockConflict) and its coordinator retries it with the same age, so no cycle of
/// waits can form and nobody starves.
/// </summary>
public sealed class WaitDieTests
{
    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts a transaction whose body adds to <paramref name="key"/> and then waits for <paramref name="release"/> before committing.</summary>
    private static (Task Run, Task Holding) HoldLock(TxCluster tx, string key, int amount, TaskCompletionSource release, Guid? id = null)
    {
        var holding = NewGate();
        var run = tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await tx.Wallet(key).AddAsync(amount);
            holding.TrySetResult();
            await release.Task;
        }, id);
        return (run, holding.Task);
    }

    [Fact]
    public async Task A_younger_transaction_dies_on_a_held_lock_and_is_retried_up_to_MaxAttempts()
    {
        await using var tx = await TxCluster.StartAsync(maxAttempts: 3);
        var release = NewGate();
        var (older, holding) = HoldLock(tx, "wd-held", 1, release);
        await holding;

        var youngerId = Guid.NewGuid();
        var attempts = new ConcurrentQueue<int>();
        var died = await Assert.ThrowsAsync<TransactionAbortedException>(() => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            attempts.Enqueue(TransactionContext.Current!.Attempt);
            await tx.Wallet("wd-held").AddAsync(10);
        }, youngerId));

        Assert.Equal(TransactionAbortReason.LockConflict, died.Reason);
        Assert.Equal(youngerId, died.TransactionId);
        Assert.True(died.IsRetryable);
        Assert.Equal([0, 1, 2], attempts);

        release.TrySetResult();
        await older;
        Assert.Equal(1, await tx.CommittedAsync("wd-held"));
        Assert.Equal(TransactionOutcome.Aborted, await tx.Client.ResolveOutcomeAsync(youngerId));
        Assert.Equal(new[] { 2 }, await tx.AssertNoLockLeftAsync("wd-held"));
    }

    [Fact]
    public async Task A_younger_transaction_that_died_commits_on_a_retry_once_the_lock_is_free()
    {
        await using var tx = await TxCluster.StartAsync(maxAttempts: 1000);
        var release = NewGate();
        var (older, holding) = HoldLock(tx, "wd-retry", 1, release);
        await holding;

        var attempts = new ConcurrentQueue<int>();
        var younger = tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            attempts.Enqueue(TransactionContext.Current!.Attempt);
            if (TransactionContext.Current.Attempt == 1) release.TrySetResult(); // it died once: let the holder finish
            return await tx.Wallet("wd-retry").AddAsync(10);
        });

        Assert.Equal(11, await younger); // built on the older one's change
        await older;
        Assert.True(attempts.Count >= 2, $"attempts: {string.Join(",", attempts)}");
        Assert.Equal(Enumerable.Range(0, attempts.Count), attempts);
        Assert.Equal(11, await tx.CommittedAsync("wd-retry"));
    }

    [Fact]
    public async Task An_older_transaction_waits_for_a_younger_holder_and_then_proceeds()
    {
        await using var tx = await TxCluster.StartAsync();
        var olderStarted = NewGate();
        var olderGo = NewGate();
        var olderAttempts = new ConcurrentQueue<int>();
        var older = tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            olderAttempts.Enqueue(TransactionContext.Current!.Attempt);
            olderStarted.TrySetResult();
            await olderGo.Task;
            return await tx.Wallet("wd-wait").AddAsync(1);
        });
        await olderStarted.Task; // its age is fixed now

        var releaseYounger = NewGate();
        var (younger, holding) = HoldLock(tx, "wd-wait", 10, releaseYounger);
        await holding;

        olderGo.TrySetResult(); // the older one now asks for the lock the younger one holds: it waits
        releaseYounger.TrySetResult();

        await younger;
        Assert.Equal(11, await older); // it ran after the younger one's change, not instead of it
        Assert.Equal([0], olderAttempts); // it never died
        Assert.Equal(11, await tx.CommittedAsync("wd-wait"));
    }

    [Fact]
    public async Task Two_transactions_locking_in_opposite_orders_both_finish()
    {
        await using var tx = await TxCluster.StartAsync();
        var bothHoldFirst = new CountdownEvent(2);
        var firstLocks = new TaskCompletionSource[] { NewGate(), NewGate() };
        var attempts = new[] { new ConcurrentQueue<int>(), new ConcurrentQueue<int>() };

        Task Run(int who, string first, string second) => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            var attempt = TransactionContext.Current!.Attempt;
            attempts[who].Enqueue(attempt);
            await tx.Wallet(first).AddAsync(1);
            if (attempt == 0)
            {
                // Both hold their first grain before either asks for its second: the conflict is certain.
                firstLocks[who].TrySetResult();
                await Task.WhenAll(firstLocks.Select(g => g.Task));
            }
            await tx.Wallet(second).AddAsync(1);
        });

        await Task.WhenAll(Run(0, "wd-x", "wd-y"), Run(1, "wd-y", "wd-x"));

        Assert.Equal(2, await tx.CommittedAsync("wd-x"));
        Assert.Equal(2, await tx.CommittedAsync("wd-y"));
        // Exactly one of them (the younger) died and was retried.
        Assert.Equal(1, attempts.Count(a => a.Count > 1));
        Assert.Equal(1, attempts.Count(a => a.Count == 1));
    }

    [Fact]
    public async Task Two_transactions_crossing_inside_grain_turns_both_finish()
    {
        // Each grain's turn holds its own lock and calls the other grain, whose turn is busy with the
        // other transaction: the younger request must die instead of queueing behind that turn.
        await using var tx = await TxCluster.StartAsync(1, null, null, ("Runtime:Messaging:ResponseTimeout", "00:00:08"));
        var gate = $"cross-{Guid.NewGuid():N}";
        var attempts = new[] { new ConcurrentQueue<int>(), new ConcurrentQueue<int>() };

        Task Run(int who, string first, string second) => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            var attempt = TransactionContext.Current!.Attempt;
            attempts[who].Enqueue(attempt);
            await tx.Wallet(first).AddThenCallAsync(1, second, 1, attempt == 0 ? gate : null);
        });

        var runs = new[] { Run(0, "wd-p", "wd-q"), Run(1, "wd-q", "wd-p") };
        await Task.WhenAll(TestGates.Arrived(gate + "/wd-p").Task, TestGates.Arrived(gate + "/wd-q").Task);
        TestGates.Get(gate).TrySetResult();
        await Task.WhenAll(runs);

        Assert.Equal(2, await tx.CommittedAsync("wd-p"));
        Assert.Equal(2, await tx.CommittedAsync("wd-q"));
        Assert.Equal(1, attempts.Count(a => a.Count > 1));
    }

    [Fact]
    public async Task Three_hundred_concurrent_increments_of_one_grain_end_with_the_exact_total()
    {
        await using var tx = await TxCluster.StartAsync();
        const int transactions = 300;

        var runs = Enumerable.Range(0, transactions).Select(_ => Task.Run(() =>
            tx.Client.RunTransaction(TransactionOption.Create, () => tx.Wallet("wd-hot").AddAsync(1))));
        var seen = await Task.WhenAll(runs);

        // Every transaction saw a distinct balance: they were serialised, none lost.
        Assert.Equal(Enumerable.Range(1, transactions), seen.Order());
        Assert.Equal(transactions, await tx.CommittedAsync("wd-hot"));
        Assert.Equal(new[] { transactions + 1 }, await tx.AssertNoLockLeftAsync("wd-hot"));
    }
}
