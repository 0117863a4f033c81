using BankGrains.Runtime.Tests.Transactions.Grains;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

/// <summary>What a transaction means to grain code: visibility, all-or-nothing, and the [Transaction] options.</summary>
public sealed class TransactionSemanticsTests : IAsyncLifetime
{
    private TxCluster _tx = null!;

    public async Task InitializeAsync() => _tx = await TxCluster.StartAsync();

    public async Task DisposeAsync() => await _tx.DisposeAsync();

    [Fact]
    public async Task A_committed_change_is_visible_outside_transactions_only_after_the_commit()
    {
        var seenInside = new List<int>();
        var result = await _tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            var mine = await _tx.Wallet("visible").AddAsync(5);
            // Outside the transaction (a method without [Transaction]) only committed values are seen.
            seenInside.Add(await _tx.Wallet("visible").CommittedAsync());
            seenInside.Add((await _tx.Wallet("visible").ProbeAsync()).Committed);
            seenInside.Add(await _tx.Wallet("visible").ReadAsync()); // this transaction sees its own change
            return mine;
        });

        Assert.Equal(5, result);
        Assert.Equal([0, 0, 5], seenInside);
        Assert.Equal(5, await _tx.CommittedAsync("visible"));
        Assert.Equal(5, (await _tx.Wallet("visible").ProbeAsync()).Committed);
    }

    [Fact]
    public async Task A_body_that_throws_changes_nothing_and_its_own_exception_comes_back()
    {
        await _tx.SeedAsync(10, "throw-a", "throw-b");
        var thrown = new WalletFailureException("the body gave up");

        var caught = await Assert.ThrowsAsync<WalletFailureException>(() => _tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await _tx.Wallet("throw-a").AddAsync(5);
            await _tx.Wallet("throw-b").AddAsync(-5);
            throw thrown;
        }));

        Assert.Same(thrown, caught);
        Assert.Equal(10, await _tx.CommittedAsync("throw-a"));
        Assert.Equal(10, await _tx.CommittedAsync("throw-b"));
        Assert.Equal(new[] { 11, 11 }, await _tx.AssertNoLockLeftAsync("throw-a", "throw-b"));
    }

    [Fact]
    public async Task A_grain_exception_inside_a_transaction_reaches_the_caller_as_itself_and_aborts()
    {
        var caught = await Assert.ThrowsAsync<WalletFailureException>(() => _tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await _tx.Wallet("grain-throw-b").AddAsync(3);
            await _tx.Wallet("grain-throw-a").AddThenThrowAsync(7);
        }));

        Assert.Contains("threw after updating", caught.Message);
        Assert.Equal(0, await _tx.CommittedAsync("grain-throw-a"));
        Assert.Equal(0, await _tx.CommittedAsync("grain-throw-b"));
        Assert.Equal(new[] { 1, 1 }, await _tx.AssertNoLockLeftAsync("grain-throw-a", "grain-throw-b"));
    }

    [Fact]
    public async Task Join_outside_a_transaction_is_refused()
    {
        await Assert.ThrowsAsync<NotSupportedException>(() => _tx.Wallet("join-outside").AddAsync(1));
        await Assert.ThrowsAsync<NotSupportedException>(() => _tx.Client.RunTransaction(TransactionOption.Join, () => Task.CompletedTask));

        Assert.Equal(0, await _tx.CommittedAsync("join-outside"));
        Assert.Equal(0, _tx.Store.CommitCalls);
    }

    [Fact]
    public async Task NotAllowed_inside_a_transaction_is_refused_and_aborts_it()
    {
        Assert.Equal(0, await _tx.Wallet("not-allowed").NotAllowedAsync());

        await Assert.ThrowsAsync<NotSupportedException>(() => _tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await _tx.Wallet("not-allowed-other").AddAsync(1);
            await _tx.Wallet("not-allowed").NotAllowedAsync();
        }));
        await Assert.ThrowsAsync<NotSupportedException>(() => _tx.Client.RunTransaction(TransactionOption.Create, () =>
            _tx.Client.RunTransaction(TransactionOption.NotAllowed, () => Task.CompletedTask)));

        Assert.Equal(0, await _tx.CommittedAsync("not-allowed-other"));
        await _tx.AssertNoLockLeftAsync("not-allowed", "not-allowed-other");
    }

    [Fact]
    public async Task CreateOrJoin_joins_the_ambient_transaction_and_everything_commits_once()
    {
        Guid outer = Guid.Empty;
        var joined = await _tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            outer = TransactionContext.Current!.Id;
            return new[] { await _tx.Wallet("coj-a").AddCreateOrJoinAsync(2), await _tx.Wallet("coj-b").AddCreateOrJoinAsync(3) };
        });

        Assert.Equal([outer, outer], joined);
        Assert.Equal([outer], Assert.Single(_tx.Store.Groups));
        Assert.Equal(2, await _tx.CommittedAsync("coj-a"));
        Assert.Equal(3, await _tx.CommittedAsync("coj-b"));

        // Outside a transaction it starts (and commits) its own.
        var own = await _tx.Wallet("coj-a").AddCreateOrJoinAsync(1);
        Assert.NotEqual(outer, own);
        Assert.Equal(TransactionOutcome.Committed, await _tx.Client.ResolveOutcomeAsync(own));
        Assert.Equal(3, await _tx.CommittedAsync("coj-a"));
    }

    [Fact]
    public async Task Create_inside_a_transaction_runs_an_independent_transaction_that_outlives_the_outer_abort()
    {
        Guid outer = Guid.Empty, inner = Guid.Empty;
        await Assert.ThrowsAsync<WalletFailureException>(() => _tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            outer = TransactionContext.Current!.Id;
            await _tx.Wallet("create-outer").AddAsync(1);
            inner = await _tx.Wallet("create-inner").AddInNewTransactionAsync(10);
            // The inner one committed already: the outer transaction is still open here.
            Assert.Equal(10, await _tx.Wallet("create-inner").CommittedAsync());
            throw new WalletFailureException("outer gives up");
        }));

        Assert.NotEqual(outer, inner);
        Assert.Equal(TransactionOutcome.Committed, await _tx.Client.ResolveOutcomeAsync(inner));
        Assert.Equal(TransactionOutcome.Aborted, await _tx.Client.ResolveOutcomeAsync(outer));
        Assert.Equal(0, await _tx.CommittedAsync("create-outer"));
        Assert.Equal(10, await _tx.CommittedAsync("create-inner"));
        await _tx.AssertNoLockLeftAsync("create-outer", "create-inner");
    }

    [Fact]
    public async Task Supported_joins_when_there_is_a_transaction_and_Suppress_never_sees_one()
    {
        await _tx.SeedAsync(4, "supported");

        var outside = await _tx.Wallet("supported").SupportedReadAsync();
        Assert.Null(outside.TransactionId);
        Assert.Equal(4, outside.Balance);

        Guid id = Guid.Empty;
        var (inside, suppressed) = await _tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            id = TransactionContext.Current!.Id;
            await _tx.Wallet("supported").AddAsync(1);
            return (await _tx.Wallet("supported").SupportedReadAsync(), await _tx.Wallet("supported").SuppressedAsync());
        });

        Assert.Equal(id, inside.TransactionId);
        Assert.Equal(5, inside.Balance); // read in the transaction: its own uncommitted change
        Assert.Null(suppressed);
    }

    [Fact]
    public async Task A_read_only_transaction_commits_nothing()
    {
        await _tx.SeedAsync(7, "ro-a", "ro-b");
        var before = _tx.Store.CommitCalls;

        var sum = await _tx.Client.RunTransaction(TransactionOption.Create, async () =>
            await _tx.Wallet("ro-a").ReadAsync() + await _tx.Wallet("ro-b").ReadAsync());

        Assert.Equal(14, sum);
        Assert.Equal(before, _tx.Store.CommitCalls);
        var state = new global::BankGrains.Runtime.Persistence.GrainState<WalletState>(new WalletState());
        await _tx.Cluster.Storage.ReadStateAsync("wallet", TxWalletGrain.IdOf("ro-a"), state);
        Assert.Equal("1", state.ETag); // still the seed's version
        await _tx.AssertNoLockLeftAsync("ro-a", "ro-b");
    }

    [Fact]
    public async Task A_transaction_run_with_an_explicit_id_resolves_as_committed()
    {
        var id = Guid.NewGuid();
        Guid seen = Guid.Empty;
        await _tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            seen = TransactionContext.Current!.Id;
            await _tx.Wallet("explicit").AddAsync(3);
        }, id);

        Assert.Equal(id, seen);
        Assert.Equal(TransactionOutcome.Committed, await _tx.Client.ResolveOutcomeAsync(id));
        Assert.Equal(TransactionOutcome.Committed, await _tx.Client.ResolveOutcomeAsync(id)); // never changes
    }

    [Fact]
    public async Task A_caller_may_run_an_aborted_transaction_id_again_but_a_committed_one_never_commits_twice()
    {
        var id = Guid.NewGuid();
        // The grain remembers this id's first attempt as aborted; a rerun of the id must still get its lock.
        await Assert.ThrowsAsync<WalletFailureException>(() => _tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await _tx.Wallet("rerun").AddAsync(1);
            throw new WalletFailureException("first run fails");
        }, id));

        await _tx.Client.RunTransaction(TransactionOption.Create, () => _tx.Wallet("rerun").AddAsync(2), id);
        Assert.Equal(2, await _tx.CommittedAsync("rerun"));
        Assert.Equal(TransactionOutcome.Committed, await _tx.Client.ResolveOutcomeAsync(id));

        var again = await Assert.ThrowsAsync<TransactionAlreadyCommittedException>(() =>
            _tx.Client.RunTransaction(TransactionOption.Create, () => _tx.Wallet("rerun").AddAsync(4), id));
        Assert.Equal(id, again.TransactionId);
        Assert.Equal(2, await _tx.CommittedAsync("rerun"));
        Assert.Equal(new[] { 3 }, await _tx.AssertNoLockLeftAsync("rerun"));
    }

    [Fact]
    public async Task Concurrent_runs_of_one_transaction_id_commit_at_most_once_and_the_grain_agrees_with_storage()
    {
        for (var round = 0; round < 10; round++)
        {
            var id = Guid.NewGuid();
            var key = $"dup-{round}";
            var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
            {
                try
                {
                    await _tx.Client.RunTransaction(TransactionOption.Create, () => _tx.Wallet(key).AddAsync(1), id);
                    return true;
                }
                catch (TransactionAbortedException) { return false; }
                catch (TransactionAlreadyCommittedException) { return false; }
            }));

            var stored = new global::BankGrains.Runtime.Persistence.GrainState<WalletState>(new WalletState());
            await _tx.Cluster.Storage.ReadStateAsync("wallet", TxWalletGrain.IdOf(key), stored);
            Assert.True(runs.Count(r => r) <= 1, $"round {round}: {runs.Count(r => r)} runs of one id were told it committed; stored balance {stored.State.Balance}");
            Assert.Equal(runs.Count(r => r), stored.State.Balance);
            Assert.Equal(stored.State.Balance, await _tx.CommittedAsync(key));
        }
    }

    [Fact]
    public async Task An_unknown_id_resolves_as_aborted_and_can_never_commit_afterwards()
    {
        var id = Guid.NewGuid();
        Assert.Equal(TransactionOutcome.Aborted, await _tx.Client.ResolveOutcomeAsync(id));

        var refused = await Assert.ThrowsAsync<TransactionAbortedException>(() =>
            _tx.Client.RunTransaction(TransactionOption.Create, () => _tx.Wallet("late").AddAsync(9), id));

        Assert.Equal(id, refused.TransactionId);
        Assert.Equal(TransactionOutcome.Aborted, await _tx.Client.ResolveOutcomeAsync(id));
        Assert.Equal(0, await _tx.CommittedAsync("late"));
        Assert.Equal(new[] { 1 }, await _tx.AssertNoLockLeftAsync("late"));
    }
}
