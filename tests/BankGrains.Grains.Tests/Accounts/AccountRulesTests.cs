using BankGrains.Grains.Interfaces;
using Xunit;
using static BankGrains.Grains.Tests.BankCluster;

namespace BankGrains.Grains.Tests.Accounts;

public sealed class AccountRulesTests
{
    [Fact]
    public async Task Deposits_and_withdrawals_move_the_balance_exactly()
    {
        await using var cluster = await StartAsync();
        var (_, account) = await cluster.OpenAccountAsync();

        await account.DepositAsync(Usd("100.10"));
        await account.DepositAsync(Usd("0.20"));
        var after = await account.WithdrawAsync(Usd("50.05"));

        Assert.Equal(Usd("50.25"), after.Balance);
        Assert.Equal("50.25", after.Balance.AmountString);
        Assert.Equal(Usd("50.25"), (await account.GetAsync()).Balance);
    }

    [Fact]
    public async Task A_withdrawal_may_not_take_the_balance_below_zero()
    {
        await using var cluster = await StartAsync();
        var (_, account) = await cluster.OpenAccountAsync();
        await account.DepositAsync(Usd("10.00"));

        var error = await Assert.ThrowsAsync<BankException>(() => account.WithdrawAsync(Usd("10.01")));

        Assert.Equal(BankErrorCode.InsufficientFunds, error.Code);
        Assert.Equal(Usd("10.00"), (await account.GetAsync()).Balance);
        Assert.Equal(Usd("0.00"), (await account.WithdrawAsync(Usd("10.00"))).Balance);
    }

    [Fact]
    public async Task An_overdraft_lets_the_balance_go_negative_down_to_its_limit_only()
    {
        await using var cluster = await StartAsync();
        var (_, account) = await cluster.OpenAccountAsync(overdraft: 500m, kyc: KycLevel.Full);

        var after = await account.WithdrawAsync(Usd("500.00"));
        Assert.Equal(Usd("-500.00"), after.Balance);
        Assert.Equal(Usd("0.00"), after.Available);

        var error = await Assert.ThrowsAsync<BankException>(() => account.WithdrawAsync(Usd("0.01")));
        Assert.Equal(BankErrorCode.InsufficientFunds, error.Code);
        Assert.Equal(Usd("-500.00"), (await account.GetAsync()).Balance);
    }

    [Fact]
    public async Task A_frozen_account_accepts_credits_but_no_debits_until_unfrozen()
    {
        await using var cluster = await StartAsync();
        var (_, account) = await cluster.OpenAccountAsync();
        await account.DepositAsync(Usd("20.00"));

        var frozen = await account.FreezeAsync("suspected fraud");
        Assert.Equal(AccountStatus.Frozen, frozen.Status);
        Assert.Equal("suspected fraud", frozen.FrozenReason);
        Assert.Equal(Usd("0.00"), frozen.Available);

        var error = await Assert.ThrowsAsync<BankException>(() => account.WithdrawAsync(Usd("1.00")));
        Assert.Equal(BankErrorCode.AccountFrozen, error.Code);
        Assert.Equal(Usd("25.00"), (await account.DepositAsync(Usd("5.00"))).Balance);

        var active = await account.UnfreezeAsync();
        Assert.Equal(AccountStatus.Active, active.Status);
        Assert.Null(active.FrozenReason);
        Assert.Equal(Usd("24.00"), (await account.WithdrawAsync(Usd("1.00"))).Balance);
    }

    [Theory]
    [InlineData("0.00")]
    [InlineData("-5.00")]
    public async Task Amounts_must_be_positive(string amount)
    {
        await using var cluster = await StartAsync();
        var (_, account) = await cluster.OpenAccountAsync();
        await account.DepositAsync(Usd("1.00"));

        Assert.Equal(BankErrorCode.InvalidAmount, (await Assert.ThrowsAsync<BankException>(() => account.DepositAsync(Usd(amount)))).Code);
        Assert.Equal(BankErrorCode.InvalidAmount, (await Assert.ThrowsAsync<BankException>(() => account.WithdrawAsync(Usd(amount)))).Code);
        Assert.Equal(Usd("1.00"), (await account.GetAsync()).Balance);
    }

    [Fact]
    public async Task The_amount_currency_must_match_the_account()
    {
        await using var cluster = await StartAsync();
        var (_, account) = await cluster.OpenAccountAsync("JPY");
        await account.DepositAsync(Money.Parse("1000", "JPY"));

        var error = await Assert.ThrowsAsync<BankException>(() => account.DepositAsync(Usd("1.00")));

        Assert.Equal(BankErrorCode.CurrencyMismatch, error.Code);
        Assert.Equal(Money.Parse("1000", "JPY"), (await account.GetAsync()).Balance);
    }

    [Fact]
    public async Task Three_decimal_currencies_keep_their_minor_units()
    {
        await using var cluster = await StartAsync();
        var (_, account) = await cluster.OpenAccountAsync("BHD");

        var after = await account.DepositAsync(Money.Parse("1.255", "BHD"));

        Assert.Equal("1.255", after.Balance.AmountString);
    }

    [Fact]
    public async Task Savings_accounts_have_no_overdraft_and_overdrafts_need_full_kyc()
    {
        await using var cluster = await StartAsync();
        var customerId = Guid.NewGuid();
        var customer = cluster.GrainFactory.GetGrain<ICustomerGrain>(customerId);
        await customer.CreateAsync("Grace Hopper", "grace@example.org");

        var kyc = await Assert.ThrowsAsync<BankException>(() => customer.OpenAccountAsync(Guid.NewGuid(), Currency.USD, AccountProduct.Checking, 100m));
        Assert.Equal(BankErrorCode.KycRequired, kyc.Code);

        await customer.SetKycLevelAsync(KycLevel.Full);
        var savings = await Assert.ThrowsAsync<BankException>(() => customer.OpenAccountAsync(Guid.NewGuid(), Currency.USD, AccountProduct.Savings, 100m));
        Assert.Equal(BankErrorCode.Validation, savings.Code);

        Assert.Empty((await customer.GetAsync()).AccountIds);
    }

    [Fact]
    public async Task Unknown_accounts_are_not_found_and_opening_twice_is_refused()
    {
        await using var cluster = await StartAsync();
        var ghost = cluster.GrainFactory.GetGrain<IAccountGrain>(Guid.NewGuid());
        Assert.Equal(BankErrorCode.NotFound, (await Assert.ThrowsAsync<BankException>(() => ghost.GetAsync())).Code);
        Assert.Equal(BankErrorCode.NotFound, (await Assert.ThrowsAsync<BankException>(() => ghost.DepositAsync(Usd("1.00")))).Code);

        var (customerId, account) = await cluster.OpenAccountAsync();
        var again = await Assert.ThrowsAsync<BankException>(() => account.OpenAsync(customerId, Currency.USD, AccountProduct.Checking, 0m));
        Assert.Equal(BankErrorCode.AlreadyExists, again.Code);
    }

    [Fact]
    public async Task Concurrent_deposits_and_withdrawals_are_all_applied_once()
    {
        await using var cluster = await StartAsync();
        var (_, account) = await cluster.OpenAccountAsync();
        await account.DepositAsync(Usd("1000.00"));

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            try
            {
                if (i % 2 == 0) await account.DepositAsync(Usd("1.00"));
                else await account.WithdrawAsync(Usd("3.00"));
                return true;
            }
            catch (BankException)
            {
                return false;
            }
        }));

        Assert.All(results, Assert.True);
        Assert.Equal(Usd("800.00"), (await account.GetAsync()).Balance);
    }

    [Fact]
    public async Task The_balance_survives_a_silo_crash()
    {
        await using var cluster = await StartAsync();
        var (_, account) = await cluster.OpenAccountAsync();
        await account.DepositAsync(Usd("12.34"));
        var accountId = (await account.GetAsync()).Id;

        await cluster.RestartSiloAsync(cluster.Silos[0]);

        Assert.Equal(Usd("12.34"), (await cluster.GrainFactory.GetGrain<IAccountGrain>(accountId).GetAsync()).Balance);
    }
}
