using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Testing;
using Xunit;
using static BankGrains.Grains.Tests.BankCluster;

namespace BankGrains.Grains.Tests.Accounts;

/// <summary>The same rules on a three-silo cluster, where calls and refusals cross silos over TCP.</summary>
public sealed class ClusteredAccountTests
{
    [Fact]
    public async Task Rules_and_refusals_hold_whichever_silo_the_caller_is_on()
    {
        await using var cluster = await TestCluster.StartAsync(options =>
        {
            options.InitialSilosCount = 3;
            options.ConfigureSilo = silo => silo.AddGrains(typeof(AccountGrain).Assembly);
        });
        var (_, account) = await cluster.OpenAccountAsync();
        var id = (await account.GetAsync()).Id;

        await Task.WhenAll(cluster.Silos.SelectMany(silo => Enumerable.Range(0, 20)
            .Select(_ => silo.GrainFactory.GetGrain<IAccountGrain>(id).DepositAsync(Usd("1.00")))));

        foreach (var silo in cluster.Silos)
        {
            var refused = await Assert.ThrowsAsync<BankException>(() => silo.GrainFactory.GetGrain<IAccountGrain>(id).WithdrawAsync(Usd("60.01")));
            Assert.Equal(BankErrorCode.InsufficientFunds, refused.Code);
            Assert.Equal(Usd("60.00"), (await silo.GrainFactory.GetGrain<IAccountGrain>(id).GetAsync()).Balance);
        }
    }
}
