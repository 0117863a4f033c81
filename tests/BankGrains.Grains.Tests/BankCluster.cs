using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Testing;

namespace BankGrains.Grains.Tests;

/// <summary>A one-silo TestCluster with the bank's grains, plus shortcuts for common set-ups.</summary>
internal static class BankCluster
{
    public static Task<TestCluster> StartAsync() =>
        TestCluster.StartAsync(options => options.ConfigureSilo = silo => silo.AddGrains(typeof(AccountGrain).Assembly));

    public static async Task<(Guid CustomerId, IAccountGrain Account)> OpenAccountAsync(
        this TestCluster cluster, string currency = "USD", AccountProduct product = AccountProduct.Checking,
        decimal overdraft = 0m, KycLevel kyc = KycLevel.Basic)
    {
        var customerId = Guid.NewGuid();
        var customer = cluster.GrainFactory.GetGrain<ICustomerGrain>(customerId);
        await customer.CreateAsync("Ada Lovelace", "ada@example.org");
        if (kyc != KycLevel.Basic) await customer.SetKycLevelAsync(kyc);
        var accountId = Guid.NewGuid();
        await customer.OpenAccountAsync(accountId, Currency.Parse(currency), product, overdraft);
        return (customerId, cluster.GrainFactory.GetGrain<IAccountGrain>(accountId));
    }

    public static Money Usd(string amount) => Money.Parse(amount, "USD");
}
