using BankGrains.Runtime.Tests.Transactions.Grains;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

/// <summary>
/// Transactions over three silos talking TCP: the transaction header goes out with each call, the
/// reply trailer brings back who joined (also grains reached only through another silo), and wait-die
/// aborts come back as themselves so the coordinator can retry them.
/// </summary>
public sealed class ClusterTransactionTests : IAsyncLifetime
{
    private TxCluster _tx = null!;

    public async Task InitializeAsync() => _tx = await TxCluster.StartAsync(silos: 3);

    public async Task DisposeAsync() => await _tx.DisposeAsync();

    /// <summary>One wallet key per silo, the first on the coordinating silo (silo 0).</summary>
    private async Task<string[]> OnePerSiloAsync(string prefix)
    {
        var silos = _tx.Cluster.Silos.Select(s => s.Address.ToString()).ToList();
        var found = new string?[silos.Count];
        for (var i = 0; i < 300 && found.Any(f => f is null); i++)
        {
            var key = $"{prefix}-{i}";
            var at = silos.IndexOf((await _tx.Wallet(key).ProbeAsync()).Silo);
            Assert.True(at >= 0, $"wallet {key} is on an unknown silo");
            found[at] ??= key;
        }
        Assert.All(found, f => Assert.NotNull(f));
        return found!;
    }

    [Fact]
    public async Task A_transaction_over_three_silos_commits_on_all_of_them()
    {
        var (local, remote, nested) = await OnePerSiloAsync("span") switch { var k => (k[0], k[1], k[2]) };

        await _tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await _tx.Wallet(local).AddAsync(1);
            // The third silo's wallet joins through the second silo: only the reply trailer tells the coordinator.
            await _tx.Wallet(remote).AddThenCallAsync(2, nested, 3, gate: null);
        });

        foreach (var silo in _tx.Cluster.Silos)
        {
            Assert.Equal(1, await silo.GrainFactory.GetGrain<ITxWalletGrain>(local).CommittedAsync());
            Assert.Equal(2, await silo.GrainFactory.GetGrain<ITxWalletGrain>(remote).CommittedAsync());
            Assert.Equal(3, await silo.GrainFactory.GetGrain<ITxWalletGrain>(nested).CommittedAsync());
        }
        Assert.Equal(new[] { 2, 3, 4 }, await _tx.AssertNoLockLeftAsync(local, remote, nested));
    }

    [Fact]
    public async Task A_transaction_over_three_silos_aborts_on_all_of_them()
    {
        var (local, remote, nested) = await OnePerSiloAsync("span-abort") switch { var k => (k[0], k[1], k[2]) };

        // A domain failure two silos away comes back as itself, and every silo drops its changes.
        var error = await Assert.ThrowsAsync<WalletFailureException>(() => _tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            await _tx.Wallet(local).AddAsync(1);
            await _tx.Wallet(remote).AddThenCallAsync(2, nested, 3, gate: null);
            await _tx.Wallet(nested).AddThenThrowAsync(4);
        }));

        Assert.Contains("threw after updating", error.Message);
        Assert.Equal(0, await _tx.CommittedAsync(local));
        Assert.Equal(0, await _tx.CommittedAsync(remote));
        Assert.Equal(0, await _tx.CommittedAsync(nested));
        Assert.Equal(new[] { 1, 1, 1 }, await _tx.AssertNoLockLeftAsync(local, remote, nested));
    }

    [Fact]
    public async Task A_lock_conflict_on_another_silo_comes_back_as_itself()
    {
        var (_, remote, _) = await OnePerSiloAsync("conflict") switch { var k => (k[0], k[1], k[2]) };
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var older = _tx.Transactions(2).RunTransaction(TransactionOption.Create, async () =>
        {
            await _tx.Cluster.Silos[2].GrainFactory.GetGrain<ITxWalletGrain>(remote).AddAsync(1);
            holding.TrySetResult();
            await release.Task;
        });
        await holding.Task;

        var youngerId = Guid.NewGuid();
        Exception? seenInBody = null;
        await Assert.ThrowsAsync<TransactionAbortedException>(() => _tx.Client.RunTransaction(TransactionOption.Create, async () =>
        {
            try { await _tx.Wallet(remote).AddAsync(10); }
            catch (Exception e) { seenInBody = e; throw; }
        }, youngerId));
        release.TrySetResult();
        await older;

        var died = Assert.IsType<TransactionAbortedException>(seenInBody);
        Assert.Equal((youngerId, TransactionAbortReason.LockConflict), (died.TransactionId, died.Reason));
        Assert.Equal(1, await _tx.CommittedAsync(remote));
    }

    [Fact]
    public async Task Coordinators_on_every_silo_share_a_hot_grain_without_losing_an_update()
    {
        var keys = await OnePerSiloAsync("shared");
        const int perSilo = 15;

        var runs = Enumerable.Range(0, 3).SelectMany(silo => Enumerable.Range(0, perSilo).Select(i =>
        {
            var factory = _tx.Cluster.Silos[silo].GrainFactory;
            return _tx.Transactions(silo).RunTransaction(TransactionOption.Create, async () =>
            {
                await factory.GetGrain<ITxWalletGrain>($"shared-cold-{silo}").AddAsync(1);
                return await factory.GetGrain<ITxWalletGrain>(keys[1]).AddAsync(1);
            });
        }));
        var seen = await Task.WhenAll(runs);

        // Distinct balances: the hot wallet (on silo 1) serialised all 45, from three coordinators.
        Assert.Equal(Enumerable.Range(1, 3 * perSilo), seen.Order());
        Assert.Equal(3 * perSilo, await _tx.CommittedAsync(keys[1]));
        for (var silo = 0; silo < 3; silo++) Assert.Equal(perSilo, await _tx.CommittedAsync($"shared-cold-{silo}"));
        await _tx.AssertNoLockLeftAsync(keys[1], "shared-cold-0");
    }
}
