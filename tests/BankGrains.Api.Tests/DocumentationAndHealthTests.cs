using System.Net;
using BankGrains.Api.Tests.Infrastructure;
using Xunit;

namespace BankGrains.Api.Tests;

public sealed class DocumentationAndHealthTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task The_management_view_lists_the_embedded_silo_with_its_activations()
    {
        var bank = new Bank(_client);
        await bank.NewAccountAsync(deposit: "1.00");

        var silos = await (await _client.GetAsync("/cluster/silos")).ExpectAsync(HttpStatusCode.OK);

        var silo = Assert.Single(silos.EnumerateArray());
        Assert.Equal("active", silo.Str("status"));
        Assert.True(silo.GetProperty("generation").GetInt32() > 0);
        Assert.False(string.IsNullOrEmpty(silo.Str("address")));
        Assert.True(silo.GetProperty("activationsByGrainType").GetProperty("account").GetInt32() >= 1);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_endpoint()
    {
        var document = await (await _client.GetAsync("/openapi/v1.json")).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("BankGrains API", document.GetProperty("info").Str("title"));
        var paths = document.GetProperty("paths");
        var operations = new Dictionary<(string Path, string Method), string>
        {
            [("/customers", "post")] = "CreateCustomer",
            [("/customers/{id}", "get")] = "GetCustomer",
            [("/customers/{id}/kyc", "put")] = "SetCustomerKycLevel",
            [("/accounts", "post")] = "OpenAccount",
            [("/accounts/{id}", "get")] = "GetAccount",
            [("/accounts/{id}/deposits", "post")] = "Deposit",
            [("/accounts/{id}/withdrawals", "post")] = "Withdraw",
            [("/accounts/{id}/freeze", "post")] = "FreezeAccount",
            [("/accounts/{id}/unfreeze", "post")] = "UnfreezeAccount",
            [("/problems/{code}", "get")] = "GetProblemType",
            [("/cluster/silos", "get")] = "ListSilos",
            [("/transfers", "post")] = "CreateTransfer",
            [("/transfers/{id}", "get")] = "GetTransfer",
            [("/accounts/{id}/entries", "get")] = "ListAccountEntries",
            [("/ledger/verify", "get")] = "VerifyLedger",
        };
        foreach (var ((path, method), operationId) in operations)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing from the OpenAPI document");
            var operation = item.GetProperty(method);
            Assert.Equal(operationId, operation.Str("operationId"));
            Assert.False(string.IsNullOrWhiteSpace(operation.Str("summary")));
        }

        var withdraw = paths.GetProperty("/accounts/{id}/withdrawals").GetProperty("post").GetProperty("responses");
        Assert.True(withdraw.TryGetProperty("200", out _));
        Assert.True(withdraw.GetProperty("422").GetProperty("content").TryGetProperty("application/problem+json", out _));

        var money = document.GetProperty("components").GetProperty("schemas").GetProperty("Money");
        Assert.Equal("string", money.GetProperty("properties").GetProperty("amount").Str("type"));
    }

    [Fact]
    public async Task The_openapi_document_requires_an_idempotency_key_exactly_where_money_moves()
    {
        var document = await (await _client.GetAsync("/openapi/v1.json")).ExpectAsync(HttpStatusCode.OK);
        var paths = document.GetProperty("paths");
        var moving = new[] { "/transfers", "/accounts/{id}/deposits", "/accounts/{id}/withdrawals" };

        foreach (var path in paths.EnumerateObject())
        foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put"))
        {
            var parameters = operation.Value.TryGetProperty("parameters", out var list) ? list.EnumerateArray().ToList() : [];
            var key = parameters.SingleOrDefault(p => p.Str("name") == "Idempotency-Key");
            var expected = operation.Name == "post" && moving.Contains(path.Name);
            Assert.True(expected == (key.ValueKind != System.Text.Json.JsonValueKind.Undefined), $"{operation.Name} {path.Name}");
            if (expected)
            {
                Assert.Equal("header", key.Str("in"));
                Assert.True(key.GetProperty("required").GetBoolean());
                Assert.Equal(255, key.GetProperty("schema").GetProperty("maxLength").GetInt32());
            }
            // The movement the API names itself is no parameter of the client's.
            Assert.DoesNotContain(parameters, p => p.Str("name") == "movement");
        }
        var transfer = paths.GetProperty("/transfers").GetProperty("post").GetProperty("responses");
        Assert.True(transfer.TryGetProperty("201", out _));
        Assert.True(transfer.GetProperty("422").GetProperty("content").TryGetProperty("application/problem+json", out _));
        Assert.False(string.IsNullOrWhiteSpace(paths.GetProperty("/transfers/{id}").GetProperty("get").Str("description")));
    }

    [Fact]
    public async Task Swagger_ui_is_served_and_points_at_the_document()
    {
        var page = await _client.GetAsync("/swagger");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("swagger-ui", await page.Content.ReadAsStringAsync());

        var script = await _client.GetStringAsync("/swagger/index.js");
        Assert.Contains("/openapi/v1.json", script);
    }

    [Fact]
    public async Task Health_reports_the_silo_and_storage_checks_as_json()
    {
        var health = await (await _client.GetAsync("/health")).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("Healthy", health.Str("status"));
        var checks = health.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("silo").Str("status"));
        Assert.Equal("Healthy", checks.GetProperty("storage").Str("status"));
    }

    [Fact]
    public async Task Readiness_runs_the_checks_and_liveness_runs_none()
    {
        var ready = await (await _client.GetAsync("/health/ready")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["silo", "storage"], ready.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order().ToArray());

        var live = await (await _client.GetAsync("/health/live")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Healthy", live.Str("status"));
        Assert.Empty(live.GetProperty("checks").EnumerateObject());
    }

    [Fact]
    public async Task State_is_stored_in_the_configured_data_directory()
    {
        await new Bank(_client).CreateCustomerAsync();
        Assert.True(File.Exists(Path.Combine(factory.DataDirectory, "bankgrains.db")), $"no bankgrains.db in {factory.DataDirectory}");
    }
}
