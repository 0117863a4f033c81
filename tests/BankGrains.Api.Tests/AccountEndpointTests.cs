using System.Net;
using BankGrains.Api.Tests.Infrastructure;
using Xunit;

namespace BankGrains.Api.Tests;

public sealed class AccountEndpointTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly Bank _bank = new(factory.CreateClient());
    private HttpClient Client => _bank.Client;

    [Fact]
    public async Task Open_returns_201_with_location_and_the_account()
    {
        var customer = await _bank.CreateCustomerAsync();
        var stored = await factory.CountStoredStatesAsync("account");

        var response = await Client.PostJsonAsync("/accounts", $$"""{"customerId":"{{customer}}","currency":"USD","product":"checking"}""");
        var account = await response.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal(stored + 1, await factory.CountStoredStatesAsync("account"));

        var id = account.GetProperty("id").GetGuid();
        Assert.Equal($"/accounts/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(customer, account.GetProperty("customerId").GetGuid());
        Assert.Equal("checking", account.Str("product"));
        Assert.Equal("USD", account.Str("currency"));
        Assert.Equal("0.00", account.Amount("balance"));
        Assert.Equal("0.00", account.Amount("overdraftLimit"));
        Assert.Equal("0.00", account.Amount("available"));
        Assert.Equal("active", account.Str("status"));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, account.GetProperty("frozenReason").ValueKind);
        Assert.True(account.GetProperty("openedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));

        Assert.Equal(account.GetRawText(), await _bank.SnapshotAsync(response.Headers.Location!.OriginalString));
        var owner = await (await Client.GetAsync($"/customers/{customer}")).ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(id, owner.GetProperty("accountIds").EnumerateArray().Select(a => a.GetGuid()));
    }

    [Fact]
    public async Task Open_accepts_products_case_insensitively_and_uses_the_currency_minor_units()
    {
        var customer = await _bank.CreateCustomerAsync();
        var opened = await (await Client.PostJsonAsync("/accounts", $$"""{"customerId":"{{customer}}","currency":"JPY","product":"SAVINGS"}"""))
            .ExpectAsync(HttpStatusCode.Created);

        Assert.Equal("savings", opened.Str("product"));
        Assert.Equal("0", opened.Amount("balance", "JPY"));
    }

    [Fact]
    public async Task Open_a_checking_account_with_an_overdraft_for_a_kyc_full_customer()
    {
        var customer = await _bank.CreateCustomerAsync("full");
        var opened = await (await Client.PostJsonAsync("/accounts", $$"""{"customerId":"{{customer}}","currency":"BHD","product":"checking","overdraftLimit":"250.5"}"""))
            .ExpectAsync(HttpStatusCode.Created);

        Assert.Equal("250.500", opened.Amount("overdraftLimit", "BHD"));
        Assert.Equal("250.500", opened.Amount("available", "BHD"));
    }

    [Theory]
    [InlineData("""{"currency":"USD","product":"checking"}""", HttpStatusCode.BadRequest, "validation", "customerId is required")]
    [InlineData("""{"customerId":"nope","currency":"USD","product":"checking"}""", HttpStatusCode.BadRequest, "validation", "customerId must be a GUID")]
    [InlineData("""{"customerId":"{customer}","product":"checking"}""", HttpStatusCode.BadRequest, "unknownCurrency", "currency is required")]
    [InlineData("""{"customerId":"{customer}","currency":"XYZ","product":"checking"}""", HttpStatusCode.BadRequest, "unknownCurrency", "currency: Unknown currency code 'XYZ'")]
    [InlineData("""{"customerId":"{customer}","currency":"usd","product":"checking"}""", HttpStatusCode.BadRequest, "unknownCurrency", "did you mean 'USD'")]
    [InlineData("""{"customerId":"{customer}","currency":"USD"}""", HttpStatusCode.BadRequest, "validation", "product is required")]
    [InlineData("""{"customerId":"{customer}","currency":"USD","product":"loan"}""", HttpStatusCode.BadRequest, "validation", "product must be one of checking, savings")]
    [InlineData("""{"customerId":"{customer}","currency":"USD","product":"checking","overdraftLimit":"-5.00"}""", HttpStatusCode.BadRequest, "invalidAmount", "overdraftLimit must not be negative")]
    [InlineData("""{"customerId":"{customer}","currency":"USD","product":"checking","overdraftLimit":"1.005"}""", HttpStatusCode.BadRequest, "invalidAmount", "overdraftLimit: USD amounts have at most 2 decimal places")]
    [InlineData("""{"customerId":"{customer}","currency":"USD","product":"checking","overdraftLimit":500}""", HttpStatusCode.BadRequest, "validation", "overdraftLimit must be a string like \"500.00\"")]
    [InlineData("""{"customerId":"{customer}","currency":"USD","product":"savings","overdraftLimit":"100.00"}""", HttpStatusCode.BadRequest, "validation", "only checking accounts can have an overdraft")]
    [InlineData("""{"customerId":"{customer}","currency":"USD","product":"checking","overdraftLimit":"100.00"}""", HttpStatusCode.UnprocessableEntity, "kycRequired", "KYC full")]
    [InlineData("""{"customerId":"{unknown}","currency":"USD","product":"checking"}""", HttpStatusCode.NotFound, "notFound", "does not exist")]
    [InlineData("""{"customerId":"{customer}","currency":"USD","product":"checking",""", HttpStatusCode.BadRequest, "validation", "not valid JSON")]
    public async Task Open_rejections_change_nothing(string template, HttpStatusCode status, string code, string detail)
    {
        var customer = await _bank.CreateCustomerAsync(); // KYC basic
        var before = await _bank.CustomerSnapshotAsync(customer);
        var accounts = await factory.CountStoredStatesAsync("account");
        var body = template.Replace("{customer}", customer.ToString()).Replace("{unknown}", Guid.NewGuid().ToString());

        var problem = await (await Client.PostJsonAsync("/accounts", body)).ExpectProblemAsync(status, code);

        Assert.Contains(detail, problem.Detail());
        Assert.Equal(before, await _bank.CustomerSnapshotAsync(customer));
        Assert.Equal(accounts, await factory.CountStoredStatesAsync("account"));
    }

    [Fact]
    public async Task Savings_accounts_cannot_have_an_overdraft_even_for_kyc_full_customers()
    {
        var customer = await _bank.CreateCustomerAsync("full");
        var before = await _bank.CustomerSnapshotAsync(customer);
        var accounts = await factory.CountStoredStatesAsync("account");

        var problem = await (await Client.PostJsonAsync("/accounts", $$"""{"customerId":"{{customer}}","currency":"USD","product":"savings","overdraftLimit":"100.00"}"""))
            .ExpectProblemAsync(HttpStatusCode.BadRequest, "validation");

        Assert.Contains("savings", problem.Detail());
        Assert.Equal(before, await _bank.CustomerSnapshotAsync(customer));
        Assert.Equal(accounts, await factory.CountStoredStatesAsync("account"));
    }

    [Fact]
    public async Task A_customer_at_kyc_none_cannot_open_an_account()
    {
        var customer = await _bank.CreateCustomerAsync("none");
        var before = await _bank.CustomerSnapshotAsync(customer);
        var accounts = await factory.CountStoredStatesAsync("account");

        await (await Client.PostJsonAsync("/accounts", $$"""{"customerId":"{{customer}}","currency":"USD","product":"checking"}"""))
            .ExpectProblemAsync(HttpStatusCode.UnprocessableEntity, "kycRequired");

        Assert.Equal(before, await _bank.CustomerSnapshotAsync(customer));
        Assert.Equal(accounts, await factory.CountStoredStatesAsync("account"));
        Assert.Contains("\"accountIds\":[]", before);
    }

    [Fact]
    public async Task Get_unknown_or_malformed_ids_is_404()
    {
        await (await Client.GetAsync($"/accounts/{Guid.NewGuid()}")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
        await (await Client.GetAsync("/accounts/12345")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
    }

    [Fact]
    public async Task Operations_on_unknown_accounts_are_404()
    {
        var id = Guid.NewGuid();
        await (await Client.PostMovementAsync($"/accounts/{id}/deposits", Bank.MoneyBody("1.00", "USD"))).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
        await (await Client.PostMovementAsync($"/accounts/{id}/withdrawals", Bank.MoneyBody("1.00", "USD"))).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
        await (await Client.PostJsonAsync($"/accounts/{id}/freeze", """{"reason":"x"}""")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
        await (await Client.PostAsync($"/accounts/{id}/unfreeze", null)).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
        await (await Client.GetAsync($"/accounts/{id}")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
    }
}
