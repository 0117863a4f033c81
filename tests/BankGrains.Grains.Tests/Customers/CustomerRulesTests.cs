using BankGrains.Grains.Interfaces;
using Xunit;

namespace BankGrains.Grains.Tests.Customers;

public sealed class CustomerRulesTests
{
    [Fact]
    public async Task A_customer_is_created_with_basic_kyc_and_read_back()
    {
        await using var cluster = await BankCluster.StartAsync();
        var id = Guid.NewGuid();
        var customer = cluster.GrainFactory.GetGrain<ICustomerGrain>(id);

        var created = await customer.CreateAsync("  Ada Lovelace ", "Ada@Example.ORG");

        Assert.Equal(id, created.Id);
        Assert.Equal("Ada Lovelace", created.Name);
        Assert.Equal("Ada@example.org", created.Email);
        Assert.Equal(KycLevel.Basic, created.KycLevel);
        Assert.Equal(created, await customer.GetAsync() with { AccountIds = created.AccountIds });
    }

    [Theory]
    [InlineData("", "a@b.co", "name is required")]
    [InlineData("Ada", "", "email is required")]
    [InlineData("Ada", "not-an-email", "email must look like")]
    [InlineData("Ada", "a@b", "email must look like")]
    [InlineData("Ada", "a b@c.de", "email must look like")]
    [InlineData("Ada", "a@@c.de", "email must look like")]
    public async Task Invalid_profiles_are_refused_and_nothing_is_created(string name, string email, string message)
    {
        await using var cluster = await BankCluster.StartAsync();
        var customer = cluster.GrainFactory.GetGrain<ICustomerGrain>(Guid.NewGuid());

        var error = await Assert.ThrowsAsync<BankException>(() => customer.CreateAsync(name, email));

        Assert.Equal(BankErrorCode.Validation, error.Code);
        Assert.Contains(message, error.Message);
        Assert.Equal(BankErrorCode.NotFound, (await Assert.ThrowsAsync<BankException>(() => customer.GetAsync())).Code);
    }

    [Fact]
    public async Task Creating_twice_is_refused_and_keeps_the_first_profile()
    {
        await using var cluster = await BankCluster.StartAsync();
        var customer = cluster.GrainFactory.GetGrain<ICustomerGrain>(Guid.NewGuid());
        await customer.CreateAsync("Ada", "ada@example.org");

        var error = await Assert.ThrowsAsync<BankException>(() => customer.CreateAsync("Eve", "eve@example.org"));

        Assert.Equal(BankErrorCode.AlreadyExists, error.Code);
        Assert.Equal("Ada", (await customer.GetAsync()).Name);
    }

    [Fact]
    public async Task A_customer_without_kyc_cannot_open_accounts()
    {
        await using var cluster = await BankCluster.StartAsync();
        var customer = cluster.GrainFactory.GetGrain<ICustomerGrain>(Guid.NewGuid());
        await customer.CreateAsync("Ada", "ada@example.org");
        await customer.SetKycLevelAsync(KycLevel.None);
        var accountId = Guid.NewGuid();

        var error = await Assert.ThrowsAsync<BankException>(() => customer.OpenAccountAsync(accountId, Currency.USD, AccountProduct.Checking, 0m));

        Assert.Equal(BankErrorCode.KycRequired, error.Code);
        Assert.Equal(BankErrorCode.NotFound,
            (await Assert.ThrowsAsync<BankException>(() => cluster.GrainFactory.GetGrain<IAccountGrain>(accountId).GetAsync())).Code);
    }

    [Fact]
    public async Task Opened_accounts_are_listed_on_the_customer()
    {
        await using var cluster = await BankCluster.StartAsync();
        var (customerId, account) = await cluster.OpenAccountAsync(product: AccountProduct.Savings);
        var snapshot = await account.GetAsync();

        var customer = await cluster.GrainFactory.GetGrain<ICustomerGrain>(customerId).GetAsync();

        Assert.Equal([snapshot.Id], customer.AccountIds);
        Assert.Equal(customerId, snapshot.CustomerId);
        Assert.Equal(AccountProduct.Savings, snapshot.Product);
        Assert.Equal(AccountStatus.Active, snapshot.Status);
        Assert.Equal(BankCluster.Usd("0.00"), snapshot.Balance);
    }
}
