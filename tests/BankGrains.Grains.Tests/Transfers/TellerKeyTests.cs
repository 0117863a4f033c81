using BankGrains.Grains.Interfaces;
using Xunit;

namespace BankGrains.Grains.Tests.Transfers;

/// <summary>Channels pick a teller key per account, so orders are coordinated by every silo, not one.</summary>
public sealed class TellerKeyTests
{
    [Fact]
    public void One_account_always_gets_the_same_key_and_many_accounts_use_them_all()
    {
        var accounts = Enumerable.Range(0, 2000).Select(_ => Guid.NewGuid()).ToList();

        var keys = accounts.Select(Tellers.For).ToList();

        Assert.Equal(keys, accounts.Select(Tellers.For));
        Assert.All(keys, k => Assert.InRange(k, 0, Tellers.Keys - 1));
        Assert.Equal(Tellers.Keys, keys.Distinct().Count());
    }
}
