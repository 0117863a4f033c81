using System.Net;
using BankGrains.Api.Tests.Infrastructure;
using Xunit;

namespace BankGrains.Api.Tests;

public sealed class IdempotencyTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private const string Replayed = "Idempotent-Replayed";
    private readonly Bank _bank = new(factory.CreateClient());
    private HttpClient Client => _bank.Client;

    [Theory]
    [InlineData("deposits")]
    [InlineData("withdrawals")]
    [InlineData("transfers")]
    public async Task Moving_money_without_an_idempotency_key_is_400_and_changes_nothing(string operation)
    {
        var account = await _bank.NewAccountAsync(deposit: "10.00");
        var other = await _bank.NewAccountAsync();
        var before = await _bank.AccountSnapshotAsync(account) + await _bank.EntriesSnapshotAsync(account);
        var (url, body) = Request(operation, account, other, "1.00");

        var problem = await (await Client.PostJsonAsync(url, body)).ExpectProblemAsync(HttpStatusCode.BadRequest, "idempotencyKeyMissing");

        Assert.Contains("Idempotency-Key", problem.Detail());
        Assert.Equal(before, await _bank.AccountSnapshotAsync(account) + await _bank.EntriesSnapshotAsync(account));
    }

    [Theory]
    [InlineData("", "idempotencyKeyMissing")]
    [InlineData("\"\"", "idempotencyKeyMissing")]
    [InlineData("256", "validation")]
    public async Task An_empty_or_overlong_key_is_400(string key, string code)
    {
        var account = await _bank.NewAccountAsync();
        var before = await _bank.AccountSnapshotAsync(account);

        var problem = await (await Client.PostMovementAsync($"/accounts/{account}/deposits", Bank.MoneyBody("1.00", "USD"), key == "256" ? new string('k', 256) : key))
            .ExpectProblemAsync(HttpStatusCode.BadRequest, code);

        Assert.Contains("Idempotency-Key", problem.Detail());
        Assert.Equal(before, await _bank.AccountSnapshotAsync(account));
        await (await _bank.PostDepositAsync(account, "1.00", idempotencyKey: Guid.NewGuid().ToString().PadRight(255, 'k'))).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_repeated_deposit_replays_the_original_answer_and_deposits_once()
    {
        var account = await _bank.NewAccountAsync();
        var key = Guid.NewGuid().ToString();

        var first = await _bank.PostDepositAsync(account, "10.00", idempotencyKey: key);
        var firstBody = await first.Content.ReadAsStringAsync();
        await _bank.DepositAsync(account, "1.00"); // the account moves on
        var again = await _bank.PostDepositAsync(account, "10.00", idempotencyKey: key);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.False(first.Headers.Contains(Replayed));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("true", Assert.Single(again.Headers.GetValues(Replayed)));
        Assert.Equal("application/json", again.Content.Headers.ContentType?.MediaType);
        Assert.Equal(firstBody, await again.Content.ReadAsStringAsync());
        Assert.Equal("11.00", (await _bank.GetAccountAsync(account)).Amount("balance"));
        Assert.Equal(2, (await _bank.EntriesAsync(account)).Count);
    }

    [Fact]
    public async Task A_repeated_transfer_replays_201_with_its_location_and_moves_the_money_once()
    {
        var from = await _bank.NewAccountAsync(deposit: "50.00");
        var to = await _bank.NewAccountAsync();
        var key = "transfer-" + Guid.NewGuid();

        var first = await _bank.PostTransferAsync(from, to, "20.00", reference: "once", idempotencyKey: key);
        var firstBody = await first.Content.ReadAsStringAsync();
        // The same request, formatted differently: the key is bound to the content, not the bytes.
        var again = await Client.PostMovementAsync("/transfers",
            $$"""{ "amount": {"currency":"USD","amount":"20.00"}, "reference":"once", "toAccountId":"{{to}}", "fromAccountId":"{{from}}" }""", key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal("true", Assert.Single(again.Headers.GetValues(Replayed)));
        Assert.Equal(first.Headers.Location, again.Headers.Location);
        Assert.Equal(firstBody, await again.Content.ReadAsStringAsync());
        Assert.Equal("30.00", (await _bank.GetAccountAsync(from)).Amount("balance"));
        Assert.Equal("20.00", (await _bank.GetAccountAsync(to)).Amount("balance"));
    }

    [Fact]
    public async Task The_same_key_with_another_body_or_on_another_route_is_422_and_changes_nothing()
    {
        var account = await _bank.NewAccountAsync();
        var other = await _bank.NewAccountAsync();
        var key = Guid.NewGuid().ToString();
        await (await _bank.PostDepositAsync(account, "10.00", idempotencyKey: key)).ExpectAsync(HttpStatusCode.OK);
        var before = await _bank.AccountSnapshotAsync(account) + await _bank.AccountSnapshotAsync(other);

        var otherAmount = await _bank.PostDepositAsync(account, "10.01", idempotencyKey: key);
        var otherAccount = await _bank.PostDepositAsync(other, "10.00", idempotencyKey: key);
        var otherRoute = await _bank.PostWithdrawalAsync(account, "10.00", idempotencyKey: key);

        foreach (var response in new[] { otherAmount, otherAccount, otherRoute })
        {
            var problem = await response.ExpectProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotencyKeyMismatch");
            Assert.Contains("different request", problem.Detail());
        }
        Assert.Equal(before, await _bank.AccountSnapshotAsync(account) + await _bank.AccountSnapshotAsync(other));
    }

    [Fact]
    public async Task A_refusal_is_the_key_s_answer_even_after_the_rule_would_pass()
    {
        var account = await _bank.NewAccountAsync(deposit: "5.00");
        var key = Guid.NewGuid().ToString();

        var refused = await _bank.PostWithdrawalAsync(account, "10.00", idempotencyKey: key);
        var refusedBody = await refused.Content.ReadAsStringAsync();
        await refused.ExpectProblemAsync(HttpStatusCode.UnprocessableEntity, "insufficientFunds");
        await _bank.DepositAsync(account, "100.00");
        var replayed = await _bank.PostWithdrawalAsync(account, "10.00", idempotencyKey: key);

        Assert.Equal("true", Assert.Single(replayed.Headers.GetValues(Replayed)));
        Assert.Equal(refusedBody, await replayed.Content.ReadAsStringAsync());
        await replayed.ExpectProblemAsync(HttpStatusCode.UnprocessableEntity, "insufficientFunds");
        Assert.Equal("105.00", (await _bank.GetAccountAsync(account)).Amount("balance"));
    }

    [Fact]
    public async Task Concurrent_requests_with_one_key_move_the_money_once()
    {
        var from = await _bank.NewAccountAsync(deposit: "100.00");
        var to = await _bank.NewAccountAsync();
        var key = Guid.NewGuid().ToString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _bank.PostTransferAsync(from, to, "10.00", idempotencyKey: key)));

        var created = responses.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        var busy = responses.Where(r => r.StatusCode == HttpStatusCode.Conflict).ToList();
        Assert.Equal(responses.Length, created.Count + busy.Count);
        Assert.NotEmpty(created);
        Assert.Single(created, r => !r.Headers.Contains(Replayed));
        Assert.Single((await Task.WhenAll(created.Select(r => r.Content.ReadAsStringAsync()))).Distinct());
        foreach (var response in busy)
        {
            await response.ExpectProblemAsync(HttpStatusCode.Conflict, "idempotencyKeyInProgress");
            Assert.NotNull(response.Headers.RetryAfter);
        }
        Assert.Equal("90.00", (await _bank.GetAccountAsync(from)).Amount("balance"));
        Assert.Equal("10.00", (await _bank.GetAccountAsync(to)).Amount("balance"));

        // Once the first has answered, every retry gets its answer.
        var late = await _bank.PostTransferAsync(from, to, "10.00", idempotencyKey: key);
        Assert.Equal(HttpStatusCode.Created, late.StatusCode);
        Assert.Equal("90.00", (await _bank.GetAccountAsync(from)).Amount("balance"));
    }

    [Fact]
    public async Task Keys_in_the_drafts_structured_field_form_are_the_same_key()
    {
        var account = await _bank.NewAccountAsync();
        var key = Guid.NewGuid().ToString();

        await (await _bank.PostDepositAsync(account, "3.00", idempotencyKey: $"\"{key}\"")).ExpectAsync(HttpStatusCode.OK);
        var again = await _bank.PostDepositAsync(account, "3.00", idempotencyKey: key);

        Assert.True(again.Headers.Contains(Replayed));
        Assert.Equal("3.00", (await _bank.GetAccountAsync(account)).Amount("balance"));
    }

    private static (string Url, string Body) Request(string operation, Guid account, Guid other, string amount) => operation == "transfers"
        ? ("/transfers", Bank.TransferBody(account, other, amount))
        : ($"/accounts/{account}/{operation}", Bank.MoneyBody(amount, "USD"));
}
