using System.Net;
using BankGrains.Api.Tests.Infrastructure;
using Xunit;

namespace BankGrains.Api.Tests;

public sealed class LedgerEndpointTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly Bank _bank = new(factory.CreateClient());
    private HttpClient Client => _bank.Client;

    [Fact]
    public async Task Entries_come_page_by_page_with_opaque_cursors_and_chain_their_hashes()
    {
        var account = await _bank.NewAccountAsync();
        for (var i = 1; i <= 6; i++) await _bank.DepositAsync(account, $"{i}.00");
        await _bank.WithdrawAsync(account, "0.50");

        var first = await (await Client.GetAsync($"/accounts/{account}/entries?limit=3")).ExpectAsync(HttpStatusCode.OK);
        var cursor = first.Str("nextCursor");
        var second = await (await Client.GetAsync($"/accounts/{account}/entries?limit=3&cursor={Uri.EscapeDataString(cursor)}")).ExpectAsync(HttpStatusCode.OK);
        var third = await (await Client.GetAsync($"/accounts/{account}/entries?limit=3&cursor={Uri.EscapeDataString(second.Str("nextCursor"))}")).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(3, first.GetProperty("items").GetArrayLength());
        Assert.Equal(3, second.GetProperty("items").GetArrayLength());
        Assert.Equal(1, third.GetProperty("items").GetArrayLength());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, third.GetProperty("nextCursor").ValueKind);
        Assert.DoesNotContain("3", cursor); // opaque, not the bare sequence

        var entries = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray())
            .Concat(third.GetProperty("items").EnumerateArray()).ToList();
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7], entries.Select(e => e.GetProperty("sequence").GetInt64()));
        Assert.Equal(["1.00", "3.00", "6.00", "10.00", "15.00", "21.00", "20.50"], entries.Select(e => e.Amount("balanceAfter")));
        Assert.Equal("-0.50", entries[^1].Amount("amount"));
        Assert.Equal("debit", entries[^1].Str("direction"));
        Assert.All(entries.Take(6), e => Assert.Equal("credit", e.Str("direction")));
        for (var i = 1; i < entries.Count; i++)
            Assert.Equal(entries[i - 1].Str("hash"), entries[i].Str("previousHash"));
        Assert.Equal(7, entries.Select(e => e.GetProperty("transactionId").GetGuid()).Distinct().Count());

        // The same cursor gives the same page again.
        Assert.Equal(second.GetRawText(), await _bank.SnapshotAsync($"/accounts/{account}/entries?limit=3&cursor={Uri.EscapeDataString(cursor)}"));
        // The default page holds them all, with no next page.
        var all = await (await Client.GetAsync($"/accounts/{account}/entries")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(7, all.GetProperty("items").GetArrayLength());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, all.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task A_new_account_has_no_entries()
    {
        var account = await _bank.NewAccountAsync();
        var page = await (await Client.GetAsync($"/accounts/{account}/entries")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0, page.GetProperty("items").GetArrayLength());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
    }

    [Theory]
    [InlineData("limit=0", "limit must be a whole number from 1 to 200")]
    [InlineData("limit=201", "limit must be a whole number from 1 to 200")]
    [InlineData("limit=abc", "limit must be a whole number from 1 to 200")]
    [InlineData("limit=-1", "limit must be a whole number from 1 to 200")]
    [InlineData("cursor=abc", "cursor is not a cursor this API issued")]
    [InlineData("cursor=%%%", "cursor is not a cursor this API issued")]
    [InlineData("cursor=YWZ0ZXI6LTE", "cursor is not a cursor this API issued")] // "after:-1"
    public async Task Bad_limits_and_cursors_are_400(string query, string detail)
    {
        var account = await _bank.NewAccountAsync(deposit: "1.00");
        var problem = await (await Client.GetAsync($"/accounts/{account}/entries?{query}")).ExpectProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.Contains(detail, problem.Detail());
    }

    [Fact]
    public async Task Entries_of_an_unknown_account_are_404()
    {
        await (await Client.GetAsync($"/accounts/{Guid.NewGuid()}/entries")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
    }

    [Fact]
    public async Task The_ledger_verifies_after_a_mix_of_movements_and_compares_every_balance()
    {
        var a = await _bank.NewAccountAsync(deposit: "300.00");
        var b = await _bank.NewAccountAsync(deposit: "20.00");
        var yen = await _bank.NewAccountAsync("JPY", deposit: "5000");
        await _bank.WithdrawAsync(a, "25.25");
        await _bank.TransferAsync(a, b, "74.75");
        await _bank.WithdrawAsync(yen, "1", "JPY");
        await (await _bank.PostWithdrawalAsync(b, "1000.00")).ExpectProblemAsync(HttpStatusCode.UnprocessableEntity, "insufficientFunds");

        var verification = await (await Client.GetAsync("/ledger/verify?includeAccounts=true")).ExpectAsync(HttpStatusCode.OK);

        Assert.True(verification.GetProperty("ok").GetBoolean(), verification.GetRawText());
        Assert.Empty(verification.GetProperty("problems").EnumerateArray());
        Assert.True(verification.GetProperty("entriesChecked").GetInt64() >= 12);
        Assert.True(verification.GetProperty("transactionsChecked").GetInt64() >= 6);
        var accounts = verification.GetProperty("accounts").EnumerateArray().ToDictionary(x => x.Str("accountId"));
        Assert.Equal(accounts.Count, verification.GetProperty("accountsChecked").GetInt32());
        Assert.Equal("200.00", accounts[a.ToString()].Amount("ledgerBalance"));
        Assert.Equal("200.00", accounts[a.ToString()].Amount("accountBalance"));
        Assert.Equal("94.75", accounts[b.ToString()].Amount("accountBalance"));
        Assert.Equal("4999", accounts[yen.ToString()].Amount("accountBalance", "JPY"));
        Assert.True(accounts["cash:USD"].GetProperty("ok").GetBoolean());
        Assert.Equal("-4999", accounts["cash:JPY"].Amount("ledgerBalance", "JPY"));

        // Without the flag, only the figures.
        var brief = await (await Client.GetAsync("/ledger/verify")).ExpectAsync(HttpStatusCode.OK);
        Assert.False(brief.TryGetProperty("accounts", out _));
        await (await Client.GetAsync("/ledger/verify?includeAccounts=maybe")).ExpectProblemAsync(HttpStatusCode.BadRequest, "validation");
    }
}
