using System.Net;
using System.Text.Json;
using BankGrains.Api.Tests.Infrastructure;
using Xunit;

namespace BankGrains.Api.Tests;

public sealed class TransferEndpointTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly Bank _bank = new(factory.CreateClient());
    private HttpClient Client => _bank.Client;

    [Fact]
    public async Task A_transfer_is_201_with_location_moves_the_money_and_posts_both_entries()
    {
        var from = await _bank.NewAccountAsync(deposit: "100.00");
        var to = await _bank.NewAccountAsync(deposit: "5.00");

        var response = await _bank.PostTransferAsync(from, to, "12.5", reference: "Rent March");
        var transfer = await response.ExpectAsync(HttpStatusCode.Created);

        var id = transfer.GetProperty("id").GetGuid();
        Assert.Equal(7, id.Version);
        Assert.Equal($"/transfers/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("completed", transfer.Str("status"));
        Assert.Equal(from, transfer.GetProperty("fromAccountId").GetGuid());
        Assert.Equal(to, transfer.GetProperty("toAccountId").GetGuid());
        Assert.Equal("12.50", transfer.Amount("amount"));
        Assert.Equal("Rent March", transfer.Str("reference"));
        Assert.True(transfer.GetProperty("createdAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));

        Assert.Equal("87.50", (await _bank.GetAccountAsync(from)).Amount("balance"));
        Assert.Equal("17.50", (await _bank.GetAccountAsync(to)).Amount("balance"));

        var debit = (await _bank.EntriesAsync(from))[^1];
        var credit = (await _bank.EntriesAsync(to))[^1];
        Assert.Equal(id, debit.GetProperty("transactionId").GetGuid());
        Assert.Equal(id, credit.GetProperty("transactionId").GetGuid());
        Assert.Equal("-12.50", debit.Amount("amount"));
        Assert.Equal("debit", debit.Str("direction"));
        Assert.Equal("87.50", debit.Amount("balanceAfter"));
        Assert.Equal("12.50", credit.Amount("amount"));
        Assert.Equal("credit", credit.Str("direction"));

        // The transfer's own resource is the 201's body, byte for byte.
        Assert.Equal(transfer.GetRawText(), await _bank.SnapshotAsync(response.Headers.Location!.OriginalString));
    }

    [Fact]
    public async Task The_reference_is_optional_and_null_when_absent()
    {
        var from = await _bank.NewAccountAsync(deposit: "10.00");
        var to = await _bank.NewAccountAsync();

        var transfer = await _bank.TransferAsync(from, to, "10.00");

        Assert.Equal(JsonValueKind.Null, transfer.GetProperty("reference").ValueKind);
        Assert.Equal(transfer.GetRawText(), await _bank.SnapshotAsync($"/transfers/{transfer.Str("id")}"));
        Assert.Equal("0.00", (await _bank.GetAccountAsync(from)).Amount("balance"));
    }

    public static TheoryData<string, HttpStatusCode, string, string> Rejections => new()
    {
        // body template ({from}, {to}, {unknown}), status, code, detail
        { """{"fromAccountId":"{from}","toAccountId":"{to}","amount":{"amount":"abc","currency":"USD"}}""", HttpStatusCode.BadRequest, "invalidAmount", "amount.amount" },
        { """{"fromAccountId":"{from}","toAccountId":"{to}","amount":{"amount":"0.00","currency":"USD"}}""", HttpStatusCode.BadRequest, "invalidAmount", "greater than zero" },
        { """{"fromAccountId":"{from}","toAccountId":"{to}","amount":{"amount":"1.005","currency":"USD"}}""", HttpStatusCode.BadRequest, "invalidAmount", "at most 2 decimal places" },
        { """{"fromAccountId":"{from}","toAccountId":"{to}","amount":{"amount":10,"currency":"USD"}}""", HttpStatusCode.BadRequest, "validation", "amount.amount must be a string" },
        { """{"fromAccountId":"{from}","toAccountId":"{to}"}""", HttpStatusCode.BadRequest, "validation", "amount is required" },
        { """{"toAccountId":"{to}","amount":{"amount":"1.00","currency":"USD"}}""", HttpStatusCode.BadRequest, "validation", "fromAccountId is required" },
        { """{"fromAccountId":"{from}","amount":{"amount":"1.00","currency":"USD"}}""", HttpStatusCode.BadRequest, "validation", "toAccountId is required" },
        { """{"fromAccountId":"nope","toAccountId":"{to}","amount":{"amount":"1.00","currency":"USD"}}""", HttpStatusCode.BadRequest, "validation", "fromAccountId must be a GUID" },
        { """{"fromAccountId":"{from}","toAccountId":"{from}","amount":{"amount":"1.00","currency":"USD"}}""", HttpStatusCode.BadRequest, "validation", "two different accounts" },
        { """{"fromAccountId":"{from}","toAccountId":"{to}","amount":{"amount":"1.00","currency":"USD"},"reference":"{long}"}""", HttpStatusCode.BadRequest, "validation", "reference must be at most 140 characters" },
        { """{"fromAccountId":"{from}","toAccountId":"{unknown}","amount":{"amount":"1.00","currency":"USD"}}""", HttpStatusCode.NotFound, "notFound", "does not exist" },
        { """{"fromAccountId":"{unknown}","toAccountId":"{to}","amount":{"amount":"1.00","currency":"USD"}}""", HttpStatusCode.NotFound, "notFound", "does not exist" },
        { """{"fromAccountId":"{from}","toAccountId":"{to}","amount":{"amount":"100.01","currency":"USD"}}""", HttpStatusCode.UnprocessableEntity, "insufficientFunds", "" },
        { """{"fromAccountId":"{from}","toAccountId":"{to}","amount":{"amount":"1.00","currency":"EUR"}}""", HttpStatusCode.UnprocessableEntity, "currencyMismatch", "" },
        { """{"fromAccountId":"{from}","toAccountId":"{yen}","amount":{"amount":"1.00","currency":"USD"}}""", HttpStatusCode.UnprocessableEntity, "currencyMismatch", "" },
        { """{"fromAccountId":"{from}","toAccountId":"{to}","amount":{"amount":"1.00","currency":"USD"}""", HttpStatusCode.BadRequest, "validation", "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public async Task Rejected_transfers_change_no_balance_and_no_entry(string template, HttpStatusCode status, string code, string detail)
    {
        var from = await _bank.NewAccountAsync(deposit: "100.00");
        var to = await _bank.NewAccountAsync(deposit: "1.00");
        var yen = await _bank.NewAccountAsync("JPY", deposit: "100");
        var before = await SnapshotsAsync(from, to, yen);
        var body = template.Replace("{from}", from.ToString()).Replace("{to}", to.ToString()).Replace("{yen}", yen.ToString())
            .Replace("{unknown}", Guid.NewGuid().ToString()).Replace("{long}", new string('r', 141));

        var problem = await (await Client.PostMovementAsync("/transfers", body)).ExpectProblemAsync(status, code);

        Assert.Contains(detail, problem.Detail());
        Assert.Equal(before, await SnapshotsAsync(from, to, yen));
    }

    [Fact]
    public async Task A_frozen_source_account_refuses_the_transfer_and_a_frozen_destination_accepts_it()
    {
        var frozen = await _bank.NewAccountAsync(deposit: "50.00");
        var other = await _bank.NewAccountAsync(deposit: "50.00");
        await (await Client.PostJsonAsync($"/accounts/{frozen}/freeze", """{"reason":"fraud check"}""")).ExpectAsync(HttpStatusCode.OK);
        var before = await SnapshotsAsync(frozen, other);

        await (await _bank.PostTransferAsync(frozen, other, "10.00")).ExpectProblemAsync(HttpStatusCode.Conflict, "accountFrozen");
        Assert.Equal(before, await SnapshotsAsync(frozen, other));

        await _bank.TransferAsync(other, frozen, "10.00");
        Assert.Equal("60.00", (await _bank.GetAccountAsync(frozen)).Amount("balance"));
    }

    [Fact]
    public async Task An_unknown_transfer_id_is_404_while_it_could_still_be_running()
    {
        var problem = await (await Client.GetAsync($"/transfers/{Guid.CreateVersion7()}")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
        Assert.Contains("may still be running", problem.Detail());

        // A GUID that is not version 7 carries no age, so it is never settled by a lookup.
        await (await Client.GetAsync($"/transfers/{Guid.NewGuid()}")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
        await (await Client.GetAsync("/transfers/not-a-guid")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
    }

    [Fact]
    public async Task An_old_unknown_transfer_id_is_settled_as_aborted_for_good()
    {
        var id = Guid.CreateVersion7(DateTimeOffset.UtcNow.AddMinutes(-10));

        var aborted = await (await Client.GetAsync($"/transfers/{id}")).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(id, aborted.GetProperty("id").GetGuid());
        Assert.Equal("aborted", aborted.Str("status"));
        Assert.Equal(2, aborted.EnumerateObject().Count());
        Assert.Equal(aborted.GetRawText(), await _bank.SnapshotAsync($"/transfers/{id}"));
    }

    [Fact]
    public async Task A_deposit_is_not_a_transfer()
    {
        var account = await _bank.NewAccountAsync(deposit: "1.00");
        var deposit = (await _bank.EntriesAsync(account))[^1].GetProperty("transactionId").GetGuid();

        var problem = await (await Client.GetAsync($"/transfers/{deposit}")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
        Assert.Contains("not a transfer", problem.Detail());
    }

    [Fact]
    public async Task Transfers_back_and_forth_keep_the_total_and_the_ledger_consistent()
    {
        var a = await _bank.NewAccountAsync(deposit: "100.00");
        var b = await _bank.NewAccountAsync(deposit: "100.00");

        var transfers = await Task.WhenAll(Enumerable.Range(1, 10).Select(i =>
            i % 2 == 0 ? _bank.PostTransferAsync(a, b, $"{i}.00") : _bank.PostTransferAsync(b, a, $"{i}.00")));

        Assert.All(transfers, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        // a sends 2+4+…+10 = 30 and receives 1+3+…+9 = 25.
        Assert.Equal("95.00", (await _bank.GetAccountAsync(a)).Amount("balance"));
        Assert.Equal("105.00", (await _bank.GetAccountAsync(b)).Amount("balance"));
        Assert.Equal(11, (await _bank.EntriesAsync(a)).Count);
        var verification = await (await Client.GetAsync("/ledger/verify")).ExpectAsync(HttpStatusCode.OK);
        Assert.True(verification.GetProperty("ok").GetBoolean(), verification.GetRawText());
    }

    private async Task<string> SnapshotsAsync(params Guid[] accounts)
    {
        var parts = new List<string>();
        foreach (var account in accounts)
        {
            parts.Add(await _bank.AccountSnapshotAsync(account));
            parts.Add(await _bank.EntriesSnapshotAsync(account));
        }
        return string.Join("\n", parts);
    }
}
