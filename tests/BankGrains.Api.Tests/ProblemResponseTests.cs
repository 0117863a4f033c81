using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using BankGrains.Api.Tests.Infrastructure;
using BankGrains.Grains.Interfaces;
using Xunit;

namespace BankGrains.Api.Tests;

public sealed class ProblemResponseTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/nothing-here")]
    [InlineData("/customers/00000000-0000-0000-0000-000000000001/nothing")]
    public async Task Unknown_routes_are_404_problems(string path)
    {
        var problem = await (await _client.GetAsync(path)).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
        Assert.Equal(path, problem.Str("instance"));
    }

    [Theory]
    [InlineData("/accounts/not-a-guid/deposits")]
    [InlineData("/accounts/42/withdrawals")]
    [InlineData("/customers/not-a-guid/kyc")]
    public async Task Malformed_ids_in_urls_are_404_problems(string path)
    {
        var response = path.EndsWith("/kyc")
            ? await _client.PutJsonAsync(path, """{"level":"full"}""")
            : await _client.PostJsonAsync(path, Bank.MoneyBody("1.00", "USD"));
        await response.ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
    }

    [Fact]
    public async Task A_wrong_method_is_a_405_problem()
    {
        await (await _client.DeleteAsync($"/accounts/{Guid.NewGuid()}")).ExpectProblemAsync(HttpStatusCode.MethodNotAllowed, "methodNotAllowed");
    }

    [Theory]
    [InlineData("/accounts/00000000-0000-0000-0000-000000000001")] // refused by a grain
    [InlineData("/no-such-page")] // no route at all
    public async Task Problems_are_problem_json_even_when_the_client_asks_for_html(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        await (await _client.SendAsync(request)).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
    }

    [Theory]
    [InlineData("insufficient-funds")]
    [InlineData("insufficientFunds")]
    [InlineData("INSUFFICIENT-FUNDS")]
    public async Task A_problem_type_is_described_at_its_type_uri(string name)
    {
        var description = await (await _client.GetAsync($"/problems/{name}")).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("/problems/insufficient-funds", description.Str("type"));
        Assert.Equal("insufficientFunds", description.Str("code"));
        Assert.Equal(422, description.GetProperty("status").GetInt32());
        Assert.Equal("Insufficient funds", description.Str("title"));
        Assert.False(string.IsNullOrWhiteSpace(description.Str("description")));
    }

    [Fact]
    public async Task Every_bank_error_code_has_a_problem_type_with_the_agreed_status()
    {
        var expected = new Dictionary<BankErrorCode, int>
        {
            [BankErrorCode.Validation] = 400,
            [BankErrorCode.InvalidAmount] = 400,
            [BankErrorCode.UnknownCurrency] = 400,
            [BankErrorCode.NotFound] = 404,
            [BankErrorCode.CurrencyMismatch] = 422,
            [BankErrorCode.InsufficientFunds] = 422,
            [BankErrorCode.KycRequired] = 422,
            [BankErrorCode.AccountFrozen] = 409,
            [BankErrorCode.AccountClosed] = 409,
            [BankErrorCode.AlreadyExists] = 409,
            [BankErrorCode.InvalidState] = 409,
        };
        var all = await (await _client.GetAsync("/problems")).ExpectAsync(HttpStatusCode.OK);
        var listed = all.EnumerateArray().ToDictionary(p => p.Str("code"));

        foreach (var code in Enum.GetValues<BankErrorCode>())
        {
            var name = JsonNamingPolicy.CamelCase.ConvertName(code.ToString());
            Assert.True(listed.ContainsKey(name), $"GET /problems does not list {name}");
            var described = await (await _client.GetAsync(listed[name].Str("type"))).ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(name, described.Str("code"));
            if (expected.TryGetValue(code, out var status)) Assert.Equal(status, described.GetProperty("status").GetInt32());
        }
        foreach (var (code, status) in new[] { ("timeout", 504), ("concurrencyConflict", 409), ("internal", 500) })
            Assert.Equal(status, listed[code].GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task An_unknown_problem_type_is_404()
    {
        await (await _client.GetAsync("/problems/no-such-problem")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
    }
}

/// <summary>Runtime failures behind the endpoints, injected through the grain factory.</summary>
public sealed class FailureMappingTests(FaultyApiFactory factory) : IClassFixture<FaultyApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task An_unexpected_exception_is_a_500_problem_without_internals()
    {
        var response = await _client.GetAsync($"/accounts/{FaultyApiFactory.Unexpected}");
        var text = await response.Content.ReadAsStringAsync();

        var problem = await response.ExpectProblemAsync(HttpStatusCode.InternalServerError, "internal");
        Assert.Contains("traceId", problem.Detail());
        foreach (var leak in new[] { "hunter2", "db.internal", "secret.cs", "InvalidOperationException", "Connection failed", " at ", "exception", "stack" })
            Assert.DoesNotContain(leak, text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_grain_call_timeout_is_a_504_problem_saying_the_outcome_is_unknown()
    {
        var response = await _client.PostMovementAsync($"/accounts/{FaultyApiFactory.TimedOut}/deposits", Bank.MoneyBody("10.00", "USD"));

        var problem = await response.ExpectProblemAsync(HttpStatusCode.GatewayTimeout, "timeout");
        Assert.Contains("outcome is unknown", problem.Detail());
        Assert.Contains("same request", problem.Detail());
        Assert.DoesNotContain("message #7", problem.Detail());
    }

    [Fact]
    public async Task A_state_version_conflict_is_a_409_problem()
    {
        var response = await _client.PostMovementAsync($"/accounts/{FaultyApiFactory.Conflicting}/withdrawals", Bank.MoneyBody("10.00", "USD"));

        var problem = await response.ExpectProblemAsync(HttpStatusCode.Conflict, "concurrencyConflict");
        Assert.DoesNotContain("version 4", problem.Detail());
    }

    [Fact]
    public async Task A_silo_that_stopped_during_the_call_is_a_503_problem()
    {
        var response = await _client.PostAsync($"/accounts/{FaultyApiFactory.SiloGone}/unfreeze", null);
        await response.ExpectProblemAsync(HttpStatusCode.ServiceUnavailable, "unavailable");
    }

    [Fact]
    public async Task A_silo_failing_after_the_call_was_sent_is_a_502_outcome_unknown_problem_without_internals()
    {
        var response = await _client.PostMovementAsync($"/accounts/{FaultyApiFactory.OutcomeUnknown}/deposits", Bank.MoneyBody("10.00", "USD"));

        var problem = await response.ExpectProblemAsync(HttpStatusCode.BadGateway, "outcomeUnknown");
        Assert.Contains("may or may not have been applied", problem.Detail());
        Assert.DoesNotContain("10.0.0.7", problem.Detail());
    }

    [Fact]
    public async Task Other_ids_still_reach_the_real_grains()
    {
        var bank = new Bank(_client);
        var account = await bank.NewAccountAsync(deposit: "12.34");
        Assert.Equal("12.34", (await bank.GetAccountAsync(account)).Amount("balance"));
    }
}
