using System.Net;
using System.Text.Json;
using Xunit;

namespace BankGrains.Api.Tests.Infrastructure;

/// <summary>Arranging customers and accounts through the API itself.</summary>
public sealed class Bank(HttpClient client)
{
    public HttpClient Client { get; } = client;

    public async Task<Guid> CreateCustomerAsync(string kyc = "basic", string name = "Ada Lovelace")
    {
        var created = await Client.PostJsonAsync("/customers", $$"""{"name":"{{name}}","email":"ada@example.com"}""");
        var customer = await created.ExpectAsync(HttpStatusCode.Created);
        var id = customer.GetProperty("id").GetGuid();
        if (kyc != "basic")
            await (await Client.PutJsonAsync($"/customers/{id}/kyc", $$"""{"level":"{{kyc}}"}""")).ExpectAsync(HttpStatusCode.OK);
        return id;
    }

    public async Task<Guid> OpenAccountAsync(Guid customerId, string currency = "USD", string product = "checking", string? overdraftLimit = null)
    {
        var overdraft = overdraftLimit is null ? "" : $$""","overdraftLimit":"{{overdraftLimit}}" """;
        var opened = await Client.PostJsonAsync("/accounts", $$"""{"customerId":"{{customerId}}","currency":"{{currency}}","product":"{{product}}"{{overdraft}}}""");
        return (await opened.ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
    }

    /// <summary>A new basic-KYC customer's new account, optionally funded.</summary>
    public async Task<Guid> NewAccountAsync(string currency = "USD", string? deposit = null)
    {
        var account = await OpenAccountAsync(await CreateCustomerAsync(), currency);
        if (deposit is not null) await DepositAsync(account, deposit, currency);
        return account;
    }

    public Task<HttpResponseMessage> PostDepositAsync(Guid account, string amount, string currency = "USD", string? idempotencyKey = null) =>
        Client.PostMovementAsync($"/accounts/{account}/deposits", MoneyBody(amount, currency), idempotencyKey);

    public Task<HttpResponseMessage> PostWithdrawalAsync(Guid account, string amount, string currency = "USD", string? idempotencyKey = null) =>
        Client.PostMovementAsync($"/accounts/{account}/withdrawals", MoneyBody(amount, currency), idempotencyKey);

    public Task<HttpResponseMessage> PostTransferAsync(Guid from, Guid to, string amount, string currency = "USD", string? reference = null,
        string? idempotencyKey = null) =>
        Client.PostMovementAsync("/transfers", TransferBody(from, to, amount, currency, reference), idempotencyKey);

    public async Task<JsonElement> TransferAsync(Guid from, Guid to, string amount, string currency = "USD", string? reference = null) =>
        await (await PostTransferAsync(from, to, amount, currency, reference)).ExpectAsync(HttpStatusCode.Created);

    public static string TransferBody(Guid from, Guid to, string amount, string currency = "USD", string? reference = null) =>
        $$$"""{"fromAccountId":"{{{from}}}","toAccountId":"{{{to}}}","amount":{"amount":"{{{amount}}}","currency":"{{{currency}}}"}{{{(reference is null ? "" : $",\"reference\":{JsonSerializer.Serialize(reference)}")}}}}""";

    /// <summary>Every journal entry of the account, following the cursors page by page.</summary>
    public async Task<List<JsonElement>> EntriesAsync(Guid account, int limit = 200)
    {
        var all = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var url = $"/accounts/{account}/entries?limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var page = await (await Client.GetAsync(url)).ExpectAsync(HttpStatusCode.OK);
            all.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("nextCursor").GetString();
        } while (cursor is not null);
        return all;
    }

    /// <summary>The entries' JSON exactly as returned: comparing two shows whether the journal changed.</summary>
    public Task<string> EntriesSnapshotAsync(Guid account) => SnapshotAsync($"/accounts/{account}/entries?limit=200");

    public async Task<JsonElement> DepositAsync(Guid account, string amount, string currency = "USD") =>
        await (await PostDepositAsync(account, amount, currency)).ExpectAsync(HttpStatusCode.OK);

    public async Task<JsonElement> WithdrawAsync(Guid account, string amount, string currency = "USD") =>
        await (await PostWithdrawalAsync(account, amount, currency)).ExpectAsync(HttpStatusCode.OK);

    public static string MoneyBody(string amount, string currency) => $$$"""{"amount":{"amount":"{{{amount}}}","currency":"{{{currency}}}"}}""";

    /// <summary>The resource's JSON exactly as GET returns it: comparing two of these shows whether anything changed.</summary>
    public async Task<string> SnapshotAsync(string url)
    {
        var response = await Client.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode}");
        return await response.Content.ReadAsStringAsync();
    }

    public Task<string> AccountSnapshotAsync(Guid account) => SnapshotAsync($"/accounts/{account}");

    public Task<string> CustomerSnapshotAsync(Guid customer) => SnapshotAsync($"/customers/{customer}");

    public async Task<JsonElement> GetAccountAsync(Guid account) =>
        await (await Client.GetAsync($"/accounts/{account}")).ExpectAsync(HttpStatusCode.OK);
}
