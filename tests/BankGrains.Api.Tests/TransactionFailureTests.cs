using System.Net;
using BankGrains.Api.Tests.Infrastructure;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Api.Tests;

/// <summary>Aborted and in-doubt transactions behind the money endpoints, injected at the teller.</summary>
public sealed class TransactionFailureTests(FaultyApiFactory factory) : IClassFixture<FaultyApiFactory>
{
    private readonly Bank _bank = new(factory.CreateClient());
    private HttpClient Client => _bank.Client;

    [Fact]
    public async Task An_aborted_transaction_is_a_retryable_409_naming_the_transaction_and_its_reason()
    {
        var to = await _bank.NewAccountAsync();

        var response = await _bank.PostTransferAsync(FaultyApiFactory.Aborted, to, "1.00");

        var problem = await response.ExpectProblemAsync(HttpStatusCode.Conflict, "transactionAborted");
        Assert.Equal("lockConflict", problem.Str("reason"));
        Assert.Equal(7, problem.GetProperty("transactionId").GetGuid().Version);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Contains("nothing changed", problem.Detail());
        Assert.DoesNotContain("10.0.0.7", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_in_doubt_transfer_is_a_502_naming_the_transfer_and_where_to_look_it_up()
    {
        var to = await _bank.NewAccountAsync();

        var problem = await (await _bank.PostTransferAsync(FaultyApiFactory.InDoubt, to, "1.00")).ExpectProblemAsync(HttpStatusCode.BadGateway, "outcomeUnknown");

        var id = problem.GetProperty("transactionId").GetGuid();
        Assert.Equal(id, problem.GetProperty("transferId").GetGuid());
        Assert.Equal($"/transfers/{id}", problem.Str("transfer"));
        Assert.DoesNotContain("db.internal", problem.GetRawText());
    }

    [Fact]
    public async Task An_in_doubt_deposit_names_its_transaction_only()
    {
        var problem = await (await _bank.PostDepositAsync(FaultyApiFactory.InDoubt, "1.00")).ExpectProblemAsync(HttpStatusCode.BadGateway, "outcomeUnknown");
        Assert.Equal(7, problem.GetProperty("transactionId").GetGuid().Version);
        Assert.False(problem.TryGetProperty("transferId", out _));
    }

    [Theory]
    [InlineData("a1", HttpStatusCode.GatewayTimeout, "timeout")]
    [InlineData("f0", HttpStatusCode.BadGateway, "outcomeUnknown")]
    public async Task A_transfer_with_an_unknown_outcome_names_the_transfer(string faulty, HttpStatusCode status, string code)
    {
        var from = Guid.Parse("00000000-0000-0000-0000-0000000000" + faulty);
        var to = await _bank.NewAccountAsync();

        var problem = await (await _bank.PostTransferAsync(from, to, "1.00")).ExpectProblemAsync(status, code);

        var id = problem.GetProperty("transferId").GetGuid();
        Assert.Equal(id, problem.GetProperty("transactionId").GetGuid());
        Assert.Equal($"/transfers/{id}", problem.Str("transfer"));
        // Still young and unknown: a lookup does not settle it.
        await (await Client.GetAsync($"/transfers/{id}")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
    }

    [Fact]
    public async Task A_retry_after_an_aborted_attempt_runs_at_once_and_moves_the_money_once()
    {
        var account = await _bank.NewAccountAsync(deposit: "10.00");
        var key = Guid.NewGuid().ToString();
        factory.FailNextMovementOf(account, id => new TransactionAbortedException(id, TransactionAbortReason.LockConflict, $"Transaction {id} aborted (LockConflict)."));

        await (await _bank.PostWithdrawalAsync(account, "4.00", idempotencyKey: key)).ExpectProblemAsync(HttpStatusCode.Conflict, "transactionAborted");
        Assert.Equal("10.00", (await _bank.GetAccountAsync(account)).Amount("balance"));

        var retried = await (await _bank.PostWithdrawalAsync(account, "4.00", idempotencyKey: key)).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("6.00", retried.Amount("balance"));
        var replayed = await _bank.PostWithdrawalAsync(account, "4.00", idempotencyKey: key);
        Assert.True(replayed.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("6.00", (await _bank.GetAccountAsync(account)).Amount("balance"));
    }

    [Fact]
    public async Task After_an_in_doubt_attempt_the_key_stays_claimed()
    {
        var account = await _bank.NewAccountAsync();
        var key = Guid.NewGuid().ToString();
        factory.FailNextMovementOf(account, id => new TransactionInDoubtException(id, $"Transaction {id} is in doubt."));

        await (await _bank.PostDepositAsync(account, "4.00", idempotencyKey: key)).ExpectProblemAsync(HttpStatusCode.BadGateway, "outcomeUnknown");
        var retry = await _bank.PostDepositAsync(account, "4.00", idempotencyKey: key);

        await retry.ExpectProblemAsync(HttpStatusCode.Conflict, "idempotencyKeyInProgress");
        Assert.NotNull(retry.Headers.RetryAfter);
        Assert.Equal("0.00", (await _bank.GetAccountAsync(account)).Amount("balance"));
    }

    [Fact]
    public async Task A_commit_refused_because_the_key_was_completed_meanwhile_answers_with_the_key_s_answer()
    {
        var account = await _bank.NewAccountAsync();
        var key = Guid.NewGuid().ToString();
        // The movement commits (with its answer under the key), then this attempt is told its key was already used.
        factory.FailNextMovementOf(account, id => new TransactionAbortedException(id, TransactionAbortReason.IdempotencyKeyUsed,
            $"Transaction {id} aborted (IdempotencyKeyUsed): idempotency key '{key}' was already completed, or is held for a different request."), afterRunning: true);

        var response = await _bank.PostDepositAsync(account, "7.00", idempotencyKey: key);

        var body = await response.ExpectAsync(HttpStatusCode.OK);
        Assert.True(response.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("7.00", body.Amount("balance"));
        Assert.Equal("7.00", (await _bank.GetAccountAsync(account)).Amount("balance"));
    }

    [Theory]
    [InlineData("transaction-aborted", 409)]
    [InlineData("idempotency-key-missing", 400)]
    [InlineData("idempotency-key-mismatch", 422)]
    [InlineData("idempotency-key-in-progress", 409)]
    [InlineData("outcome-unknown", 502)]
    public async Task The_new_problem_types_are_described(string slug, int status)
    {
        var description = await (await Client.GetAsync($"/problems/{slug}")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(status, description.GetProperty("status").GetInt32());
        Assert.Equal($"/problems/{slug}", description.Str("type"));
    }
}
