using System.Net;
using BankGrains.Api.Tests.Infrastructure;
using Xunit;

namespace BankGrains.Api.Tests;

public sealed class MoneyMovementTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly Bank _bank = new(factory.CreateClient());
    private HttpClient Client => _bank.Client;

    [Fact]
    public async Task Deposits_and_withdrawals_return_the_account_with_its_exact_new_balance()
    {
        var account = await _bank.NewAccountAsync();

        Assert.Equal("100.00", (await _bank.DepositAsync(account, "100")).Amount("balance"));
        Assert.Equal("100.01", (await _bank.DepositAsync(account, "0.01")).Amount("balance"));
        Assert.Equal("350.51", (await _bank.DepositAsync(account, "250.50")).Amount("balance"));
        var afterWithdrawal = await _bank.WithdrawAsync(account, "50.25");
        Assert.Equal("300.26", afterWithdrawal.Amount("balance"));
        Assert.Equal("300.26", afterWithdrawal.Amount("available"));
        Assert.Equal("0.26", (await _bank.WithdrawAsync(account, "300.000")).Amount("balance"));

        Assert.Equal("0.26", (await _bank.GetAccountAsync(account)).Amount("balance"));
    }

    [Fact]
    public async Task Yen_amounts_have_no_decimals()
    {
        var account = await _bank.NewAccountAsync("JPY");
        Assert.Equal("1500", (await _bank.DepositAsync(account, "1500", "JPY")).Amount("balance", "JPY"));
        Assert.Equal("1499", (await _bank.WithdrawAsync(account, "1", "JPY")).Amount("balance", "JPY"));
    }

    [Fact]
    public async Task Withdrawing_more_than_the_balance_is_422_insufficient_funds_and_changes_nothing()
    {
        var account = await _bank.NewAccountAsync(deposit: "100.00");
        var before = await _bank.AccountSnapshotAsync(account);

        await (await _bank.PostWithdrawalAsync(account, "100.01")).ExpectProblemAsync(HttpStatusCode.UnprocessableEntity, "insufficientFunds");

        Assert.Equal(before, await _bank.AccountSnapshotAsync(account));
        Assert.Equal("0.00", (await _bank.WithdrawAsync(account, "100.00")).Amount("balance"));
    }

    [Fact]
    public async Task An_overdraft_allows_withdrawals_down_to_minus_the_limit_and_no_further()
    {
        var customer = await _bank.CreateCustomerAsync("full");
        var account = await _bank.OpenAccountAsync(customer, overdraftLimit: "500.00");
        await _bank.DepositAsync(account, "100.00");

        var overdrawn = await _bank.WithdrawAsync(account, "550.00");
        Assert.Equal("-450.00", overdrawn.Amount("balance"));
        Assert.Equal("50.00", overdrawn.Amount("available"));

        var before = await _bank.AccountSnapshotAsync(account);
        await (await _bank.PostWithdrawalAsync(account, "50.01")).ExpectProblemAsync(HttpStatusCode.UnprocessableEntity, "insufficientFunds");
        Assert.Equal(before, await _bank.AccountSnapshotAsync(account));

        var atLimit = await _bank.WithdrawAsync(account, "50.00");
        Assert.Equal("-500.00", atLimit.Amount("balance"));
        Assert.Equal("0.00", atLimit.Amount("available"));
    }

    [Fact]
    public async Task A_frozen_account_refuses_withdrawals_accepts_deposits_and_unfreezing_restores_withdrawals()
    {
        var account = await _bank.NewAccountAsync(deposit: "100.00");

        var frozen = await (await Client.PostJsonAsync($"/accounts/{account}/freeze", """{"reason":"suspected fraud"}""")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("frozen", frozen.Str("status"));
        Assert.Equal("suspected fraud", frozen.Str("frozenReason"));
        Assert.Equal("0.00", frozen.Amount("available"));

        var before = await _bank.AccountSnapshotAsync(account);
        var problem = await (await _bank.PostWithdrawalAsync(account, "10.00")).ExpectProblemAsync(HttpStatusCode.Conflict, "accountFrozen");
        Assert.Contains("frozen", problem.Detail());
        Assert.Equal(before, await _bank.AccountSnapshotAsync(account));

        var credited = await _bank.DepositAsync(account, "5.00");
        Assert.Equal("105.00", credited.Amount("balance"));
        Assert.Equal("frozen", credited.Str("status"));

        var unfrozen = await (await Client.PostAsync($"/accounts/{account}/unfreeze", null)).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("active", unfrozen.Str("status"));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, unfrozen.GetProperty("frozenReason").ValueKind);
        Assert.Equal("105.00", unfrozen.Amount("available"));

        Assert.Equal("95.00", (await _bank.WithdrawAsync(account, "10.00")).Amount("balance"));
    }

    [Fact]
    public async Task Freeze_needs_no_body()
    {
        var account = await _bank.NewAccountAsync();
        var frozen = await (await Client.PostAsync($"/accounts/{account}/freeze", null)).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("frozen", frozen.Str("status"));
        var frozenAgain = await (await Client.PostJsonAsync($"/accounts/{account}/freeze", "{}")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("frozen", frozenAgain.Str("status"));
    }

    [Fact]
    public async Task Freeze_rejects_an_overlong_reason_and_changes_nothing()
    {
        var account = await _bank.NewAccountAsync();
        var before = await _bank.AccountSnapshotAsync(account);

        var problem = await (await Client.PostJsonAsync($"/accounts/{account}/freeze", $$"""{"reason":"{{new string('r', 501)}}"}"""))
            .ExpectProblemAsync(HttpStatusCode.BadRequest, "validation");

        Assert.Contains("reason must be at most 500 characters", problem.Detail());
        Assert.Equal(before, await _bank.AccountSnapshotAsync(account));
    }

    [Theory]
    [InlineData("deposits")]
    [InlineData("withdrawals")]
    public async Task An_amount_in_another_currency_is_422_currency_mismatch_and_changes_nothing(string operation)
    {
        var account = await _bank.NewAccountAsync(deposit: "100.00");
        var before = await _bank.AccountSnapshotAsync(account);

        await (await Client.PostMovementAsync($"/accounts/{account}/{operation}", Bank.MoneyBody("10.00", "EUR")))
            .ExpectProblemAsync(HttpStatusCode.UnprocessableEntity, "currencyMismatch");

        Assert.Equal(before, await _bank.AccountSnapshotAsync(account));
    }

    public static TheoryData<string, string, string, string> InvalidBodies => new()
    {
        // body, code, detail, currency of the account
        { """{"amount":{"amount":"0","currency":"USD"}}""", "invalidAmount", "amount.amount must be greater than zero", "USD" },
        { """{"amount":{"amount":"0.00","currency":"USD"}}""", "invalidAmount", "amount.amount must be greater than zero", "USD" },
        { """{"amount":{"amount":"-5.00","currency":"USD"}}""", "invalidAmount", "amount.amount must be greater than zero", "USD" },
        { """{"amount":{"amount":"1.005","currency":"USD"}}""", "invalidAmount", "USD amounts have at most 2 decimal places", "USD" },
        { """{"amount":{"amount":"100.5","currency":"JPY"}}""", "invalidAmount", "JPY amounts have no decimal places", "JPY" },
        { """{"amount":{"amount":"abc","currency":"USD"}}""", "invalidAmount", "is not a plain decimal number", "USD" },
        { """{"amount":{"amount":"1e3","currency":"USD"}}""", "invalidAmount", "is not a plain decimal number", "USD" },
        { """{"amount":{"amount":" 1.00","currency":"USD"}}""", "invalidAmount", "is not a plain decimal number", "USD" },
        { """{"amount":{"amount":"1,000.00","currency":"USD"}}""", "invalidAmount", "is not a plain decimal number", "USD" },
        { """{"amount":{"amount":"","currency":"USD"}}""", "invalidAmount", "amount.amount is required", "USD" },
        { """{"amount":{"currency":"USD"}}""", "invalidAmount", "amount.amount is required", "USD" },
        { """{"amount":{"amount":"1000000000000000","currency":"USD"}}""", "invalidAmount", "out of range", "USD" },
        { """{"amount":{"amount":100,"currency":"USD"}}""", "validation", "amount.amount must be a string like \"100.00\"", "USD" },
        { """{"amount":{"amount":100.00,"currency":"USD"}}""", "validation", "amount.amount must be a string like \"100.00\"", "USD" },
        { """{"amount":{"amount":"10.00","currency":"XYZ"}}""", "unknownCurrency", "amount.currency: Unknown currency code 'XYZ'", "USD" },
        { """{"amount":{"amount":"10.00","currency":"usd"}}""", "unknownCurrency", "did you mean 'USD'", "USD" },
        { """{"amount":{"amount":"10.00"}}""", "unknownCurrency", "amount.currency is required", "USD" },
        { """{"amount":{"amount":"10.00","currency":840}}""", "validation", "amount.currency must be a string like \"USD\"", "USD" },
        { """{"amount":"10.00"}""", "validation", "amount must be a JSON object like {\"amount\":\"100.00\",\"currency\":\"USD\"}", "USD" },
        { """{"amount":10}""", "validation", "amount must be a JSON object", "USD" },
        { """{}""", "validation", "amount is required", "USD" },
        { """{"amount":null}""", "validation", "amount is required", "USD" },
        { """{"amount":{"amount":"10.00","currency":"USD"}""", "validation", "not valid JSON", "USD" },
        { """{"amount":{"amount":"10.00","currency":"USD"}}}""", "validation", "not valid JSON", "USD" },
        { """not json""", "validation", "not valid JSON", "USD" },
        { "", "validation", "request body is missing", "USD" },
        { "null", "validation", "request body is missing", "USD" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_deposits_are_400_and_change_nothing(string body, string code, string detail, string currency)
    {
        var account = await _bank.NewAccountAsync(currency, deposit: "100");
        var before = await _bank.AccountSnapshotAsync(account);

        var problem = await (await Client.PostMovementAsync($"/accounts/{account}/deposits", body)).ExpectProblemAsync(HttpStatusCode.BadRequest, code);

        Assert.Contains(detail, problem.Detail());
        Assert.DoesNotContain("System.", problem.Detail());
        Assert.DoesNotContain("Path:", problem.Detail());
        Assert.Equal(before, await _bank.AccountSnapshotAsync(account));
    }

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_withdrawals_are_400_and_change_nothing(string body, string code, string detail, string currency)
    {
        var account = await _bank.NewAccountAsync(currency, deposit: "100");
        var before = await _bank.AccountSnapshotAsync(account);

        var problem = await (await Client.PostMovementAsync($"/accounts/{account}/withdrawals", body)).ExpectProblemAsync(HttpStatusCode.BadRequest, code);

        Assert.Contains(detail, problem.Detail());
        Assert.Equal(before, await _bank.AccountSnapshotAsync(account));
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_415_and_changes_nothing()
    {
        var account = await _bank.NewAccountAsync(deposit: "1.00");
        var before = await _bank.AccountSnapshotAsync(account);

        var response = await Client.PostAsync($"/accounts/{account}/deposits",
            new FormUrlEncodedContent([new("amount", "10.00"), new("currency", "USD")]));

        await response.ExpectProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupportedMediaType");
        Assert.Equal(before, await _bank.AccountSnapshotAsync(account));
    }

    [Fact]
    public async Task Concurrent_deposits_are_all_applied()
    {
        var account = await _bank.NewAccountAsync();

        var responses = await Task.WhenAll(Enumerable.Range(1, 20).Select(i => _bank.PostDepositAsync(account, $"{i}.01")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var expected = Enumerable.Range(1, 20).Sum(i => i + 0.01m);
        Assert.Equal(expected.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), (await _bank.GetAccountAsync(account)).Amount("balance"));
    }
}
