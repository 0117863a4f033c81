using BankGrains.Runtime.Tests.Transactions.Grains;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

/// <summary>
/// "A transaction aborting at each step leaves no lock behind": after every way a transaction can
/// fail, its grains report no lock and no undecided version, a new transaction on them commits on
/// its first attempt (a leftover lock would make it die and retry), and the state is exactly what
/// the failure should have left.
/// </summary>
public sealed class LockLeakTests
{
    private static readonly string[] Pair = ["leak-a", "leak-b"];

    private static async Task<TxCluster> StartSeededAsync(TimeSpan? timeout = null)
    {
        var tx = await TxCluster.StartAsync(timeout: timeout);
        await tx.SeedAsync(10, Pair);
        return tx;
    }

    [Fact]
    public async Task Body_throws_before_touching_any_grain()
    {
        await using var tx = await StartSeededAsync();

        await Assert.ThrowsAsync<WalletFailureException>(() => tx.Client.RunTransaction(TransactionOption.Create,
            () => throw new WalletFailureException("nothing done yet")));

        Assert.Equal(new[] { 11, 11 }, await tx.AssertNoLockLeftAsync(Pair));
    }

    [Fact]
    public async Task An_update_throws_half_way()
    {
        await using var tx = await StartSeededAsync();

        var error = await Assert.ThrowsAsync<WalletFailureException>(() => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await tx.Wallet("leak-b").AddAsync(5);
            await tx.Wallet("leak-a").AddThenFailInsideUpdateAsync(5);
        }));

        Assert.Contains("half-way", error.Message);
        Assert.Equal(new[] { 11, 11 }, await tx.AssertNoLockLeftAsync(Pair));
    }

    [Fact]
    public async Task A_participant_whose_update_threw_refuses_at_prepare_even_if_the_body_carries_on()
    {
        await using var tx = await StartSeededAsync();

        // The body swallows the grain's failure and tries to commit: the half-changed copy must not be.
        var aborted = await Assert.ThrowsAsync<TransactionAbortedException>(() => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await tx.Wallet("leak-b").AddAsync(5);
            try { await tx.Wallet("leak-a").AddThenFailInsideUpdateAsync(5); }
            catch (WalletFailureException) { }
        }));

        Assert.Equal(TransactionAbortReason.ValidationFailed, aborted.Reason);
        Assert.Equal(new[] { 11, 11 }, await tx.AssertNoLockLeftAsync(Pair));
    }

    [Fact]
    public async Task A_participant_lost_before_prepare_refuses()
    {
        await using var tx = await StartSeededAsync();
        var before = (await tx.Wallet("leak-a").ProbeAsync()).ActivationId;

        // The activation that joined goes away with its lock and copy: the next one does not know the transaction.
        var aborted = await Assert.ThrowsAsync<TransactionAbortedException>(() => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await tx.Wallet("leak-b").AddAsync(5);
            await tx.Wallet("leak-a").AddThenDeactivateAsync(5);
        }));

        Assert.Equal(TransactionAbortReason.ParticipantLost, aborted.Reason);
        Assert.NotEqual(before, (await tx.Wallet("leak-a").ProbeAsync()).ActivationId);
        Assert.Equal(new[] { 11, 11 }, await tx.AssertNoLockLeftAsync(Pair));
    }

    [Fact]
    public async Task The_journal_does_not_balance()
    {
        await using var tx = await StartSeededAsync();

        var aborted = await Assert.ThrowsAsync<TransactionAbortedException>(() => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await tx.Wallet("leak-a").AddAsync(5);
            await tx.Wallet("leak-b").AddAsync(5);
            var info = TransactionContext.Current!;
            info.AddRecords(r => r.Entries.Add(new JournalEntry(info.Id, "leak-a", 1, "USD", 5m, 5m, DateTimeOffset.UtcNow, "", "")));
        }));

        Assert.Equal(TransactionAbortReason.ValidationFailed, aborted.Reason);
        Assert.Equal(1, tx.Store.CommitCalls); // only the seed reached the store
        Assert.Equal(new[] { 11, 11 }, await tx.AssertNoLockLeftAsync(Pair));
    }

    [Fact]
    public async Task The_commit_meets_a_version_written_behind_the_grains_back()
    {
        await using var tx = await StartSeededAsync();

        var aborted = await Assert.ThrowsAsync<TransactionAbortedException>(() => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await tx.Wallet("leak-a").AddAsync(5);
            await tx.Wallet("leak-b").AddAsync(5);
            // Another writer moves leak-a's stored state on: the fenced write of this commit must fail.
            var stored = new global::BankGrains.Runtime.Persistence.GrainState<WalletState>(new WalletState());
            await tx.Cluster.Storage.ReadStateAsync("wallet", TxWalletGrain.IdOf("leak-a"), stored);
            stored.State.Balance = 100;
            await tx.Cluster.Storage.WriteStateAsync("wallet", TxWalletGrain.IdOf("leak-a"), stored);
        }));

        Assert.Equal(TransactionAbortReason.VersionConflict, aborted.Reason);
        // leak-a reloads what storage holds now; leak-b keeps its committed value.
        Assert.Equal(new[] { 101, 11 }, await tx.AssertNoLockLeftAsync(Pair));
    }

    [Fact]
    public async Task The_store_fails_before_committing()
    {
        await using var tx = await StartSeededAsync();
        var id = Guid.NewGuid();
        tx.Store.BeforeCommit = _ => throw new InvalidOperationException("connection refused");

        var aborted = await Assert.ThrowsAsync<TransactionAbortedException>(() => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await tx.Wallet("leak-a").AddAsync(5);
            await tx.Wallet("leak-b").AddAsync(5);
        }, id));
        tx.Store.BeforeCommit = null;

        Assert.Equal(TransactionAbortReason.StorageFailed, aborted.Reason);
        Assert.Equal(id, aborted.TransactionId);
        Assert.Equal(TransactionOutcome.Aborted, await tx.Client.ResolveOutcomeAsync(id));
        Assert.Equal(new[] { 11, 11 }, await tx.AssertNoLockLeftAsync(Pair));
    }

    [Fact]
    public async Task The_memory_store_hook_fails_before_committing()
    {
        // The same step through MemoryTransactionStore's own hook, under the store's lock.
        await using var tx = await StartSeededAsync();
        tx.Memory.BeforeCommit = _ => throw new InvalidOperationException("disk full");

        var aborted = await Assert.ThrowsAsync<TransactionAbortedException>(() => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await tx.Wallet("leak-a").AddAsync(5);
            await tx.Wallet("leak-b").AddAsync(5);
        }));
        tx.Memory.BeforeCommit = null;

        Assert.Equal(TransactionAbortReason.StorageFailed, aborted.Reason);
        Assert.Equal(new[] { 11, 11 }, await tx.AssertNoLockLeftAsync(Pair));
    }

    [Fact]
    public async Task The_store_fails_after_committing_and_the_transaction_is_resolved_as_committed()
    {
        await using var tx = await StartSeededAsync();
        var id = Guid.NewGuid();
        tx.Memory.AfterCommit = _ => throw new InvalidOperationException("connection lost after COMMIT");

        // The outcome looked unknown; the commit record says committed, so the caller sees success.
        await tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await tx.Wallet("leak-a").AddAsync(5);
            await tx.Wallet("leak-b").AddAsync(-5);
        }, id);
        tx.Memory.AfterCommit = null;

        Assert.Equal(TransactionOutcome.Committed, await tx.Client.ResolveOutcomeAsync(id));
        Assert.Equal(15, await tx.CommittedAsync("leak-a"));
        Assert.Equal(5, await tx.CommittedAsync("leak-b"));
        Assert.Equal(new[] { 16, 6 }, await tx.AssertNoLockLeftAsync(Pair));
    }
}

/// <summary>The coordinator's lease runs out mid-body (a class of its own: these wait out a short timeout, in parallel with the rest).</summary>
public sealed class LeaseExpiryTests
{
    // Short enough to wait out, long enough that seeding and checking never hit it on a loaded machine.
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(1500);
    private static readonly TimeSpan LeaseOverrun = TimeSpan.FromMilliseconds(2000);
    private static readonly string[] Pair = ["leak-a", "leak-b"];

    private static async Task<TxCluster> StartSeededAsync(TimeSpan? timeout = null)
    {
        var tx = await TxCluster.StartAsync(timeout: timeout);
        await tx.SeedAsync(10, Pair);
        return tx;
    }

    [Fact]
    public async Task The_lease_runs_out_while_the_body_is_still_running()
    {
        await using var tx = await StartSeededAsync(timeout: Lease);
        var attempts = 0;

        var aborted = await Assert.ThrowsAsync<TransactionAbortedException>(() => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            Interlocked.Increment(ref attempts);
            await tx.Wallet("leak-a").AddAsync(5);
            await Task.Delay(LeaseOverrun); // past the deadline: the lease on leak-a has been dropped
            await tx.Wallet("leak-b").AddAsync(5);
        }));

        Assert.Equal(TransactionAbortReason.LockExpired, aborted.Reason);
        Assert.Equal(1, attempts); // an expired transaction is not a lock conflict: no retry
        Assert.Equal(new[] { 11, 11 }, await tx.AssertNoLockLeftAsync(Pair));
    }

    [Fact]
    public async Task The_lease_runs_out_and_the_body_comes_back_to_the_same_grain()
    {
        await using var tx = await StartSeededAsync(timeout: Lease);
        var attempts = 0;

        var aborted = await Assert.ThrowsAsync<TransactionAbortedException>(() => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            Interlocked.Increment(ref attempts);
            await tx.Wallet("leak-a").AddAsync(5);
            if (attempts == 1) await Task.Delay(LeaseOverrun);
            await tx.Wallet("leak-a").AddAsync(5);
        }));

        Assert.Equal(TransactionAbortReason.LockExpired, aborted.Reason);
        Assert.Equal(1, attempts);
        Assert.Equal(new[] { 11, 11 }, await tx.AssertNoLockLeftAsync(Pair));
    }

    [Fact]
    public async Task The_lease_runs_out_inside_a_slow_grain_turn()
    {
        await using var tx = await StartSeededAsync(timeout: Lease);

        var aborted = await Assert.ThrowsAsync<TransactionAbortedException>(() => tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await tx.Wallet("leak-b").AddAsync(5);
            await tx.Wallet("leak-a").AddSlowlyAsync(5, (int)LeaseOverrun.TotalMilliseconds);
        }));

        Assert.Equal(TransactionAbortReason.LockExpired, aborted.Reason);
        Assert.Equal(new[] { 11, 11 }, await tx.AssertNoLockLeftAsync(Pair));
    }
}
