using System.Net;
using BankGrains.Api.Tests.Infrastructure;
using Xunit;

namespace BankGrains.Api.Tests;

public sealed class CustomerEndpointTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly Bank _bank = new(factory.CreateClient());
    private HttpClient Client => _bank.Client;

    [Fact]
    public async Task Create_returns_201_with_location_and_the_customer_at_kyc_basic()
    {
        var stored = await factory.CountStoredStatesAsync("customer");
        var response = await Client.PostJsonAsync("/customers", """{"name":"  Grace Hopper ","email":"grace@example.com"}""");
        var customer = await response.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal(stored + 1, await factory.CountStoredStatesAsync("customer"));

        var id = customer.GetProperty("id").GetGuid();
        Assert.Equal($"/customers/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("Grace Hopper", customer.Str("name"));
        Assert.Equal("grace@example.com", customer.Str("email"));
        Assert.Equal("basic", customer.Str("kycLevel"));
        Assert.Empty(customer.GetProperty("accountIds").EnumerateArray());
        Assert.True(customer.GetProperty("createdAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));

        var fetched = await (await Client.GetAsync(response.Headers.Location)).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(customer.GetRawText(), fetched.GetRawText());
    }

    [Theory]
    [InlineData("""{"email":"ada@example.com"}""", "name is required")]
    [InlineData("""{"name":"   ","email":"ada@example.com"}""", "name is required")]
    [InlineData("""{"name":null,"email":"ada@example.com"}""", "name is required")]
    [InlineData("""{"name":"Ada"}""", "email is required")]
    [InlineData("""{"name":"Ada","email":"ada"}""", "email must look like name@domain")]
    [InlineData("""{"name":"Ada","email":"ada@"}""", "email must look like name@domain")]
    [InlineData("""{"name":"Ada","email":"@example.com"}""", "email must look like name@domain")]
    [InlineData("""{"name":"Ada","email":"ada lovelace@example.com"}""", "email must look like name@domain")]
    [InlineData("""{"name":"Ada","email":"ada@example"}""", "email must look like name@domain")]
    [InlineData("""{"name":"Ada","email":"ada@@example.com"}""", "email must look like name@domain")]
    [InlineData("""{"name":42,"email":"ada@example.com"}""", "name must be a JSON string")]
    [InlineData("""{"name":"Ada","email":["ada@example.com"]}""", "email must be a JSON string")]
    [InlineData("""[]""", "The request body must be a JSON object")]
    [InlineData("{\"name\":\"Ada\",\"email\":\"ada@example.com\"", "not valid JSON")]
    [InlineData("""{'name':'Ada'}""", "not valid JSON")]
    [InlineData("", "request body is missing")]
    public async Task Create_rejects_invalid_bodies_with_400_validation_and_stores_nothing(string body, string detail)
    {
        await _bank.CreateCustomerAsync(); // the database exists
        var stored = await factory.CountStoredStatesAsync("customer");

        var problem = await (await Client.PostJsonAsync("/customers", body)).ExpectProblemAsync(HttpStatusCode.BadRequest, "validation");

        Assert.Contains(detail, problem.Detail());
        Assert.Equal("/customers", problem.Str("instance"));
        Assert.Equal(stored, await factory.CountStoredStatesAsync("customer"));
    }

    [Fact]
    public async Task Create_rejects_a_name_longer_than_200_characters()
    {
        var problem = await (await Client.PostJsonAsync("/customers", $$"""{"name":"{{new string('x', 201)}}","email":"a@example.com"}"""))
            .ExpectProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.Contains("name must be at most 200 characters", problem.Detail());
    }

    [Fact]
    public async Task Create_without_a_json_content_type_is_415()
    {
        var response = await Client.PostAsync("/customers", new StringContent("""{"name":"Ada","email":"ada@example.com"}""", System.Text.Encoding.UTF8, "text/plain"));
        await response.ExpectProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupportedMediaType");
    }

    [Fact]
    public async Task Get_unknown_or_malformed_ids_is_404()
    {
        var unknown = await (await Client.GetAsync($"/customers/{Guid.NewGuid()}")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
        Assert.Contains("does not exist", unknown.Detail());
        await (await Client.GetAsync("/customers/not-a-guid")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
    }

    [Theory]
    [InlineData("full", "full")]
    [InlineData("FULL", "full")]
    [InlineData("None", "none")]
    [InlineData("basic", "basic")]
    public async Task SetKyc_accepts_levels_case_insensitively(string level, string expected)
    {
        var id = await _bank.CreateCustomerAsync();
        var customer = await (await Client.PutJsonAsync($"/customers/{id}/kyc", $$"""{"level":"{{level}}"}""")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(expected, customer.Str("kycLevel"));
        Assert.Equal(id, customer.GetProperty("id").GetGuid());
        Assert.Equal(customer.GetRawText(), await _bank.CustomerSnapshotAsync(id));
    }

    [Theory]
    [InlineData("""{"level":"gold"}""", "level must be one of none, basic, full")]
    [InlineData("""{"level":"2"}""", "level must be one of none, basic, full")]
    [InlineData("""{"level":"basic,full"}""", "level must be one of none, basic, full")]
    [InlineData("""{"level":2}""", "level must be a JSON string")]
    [InlineData("""{}""", "level is required")]
    [InlineData("""{"level":""", "not valid JSON")]
    public async Task SetKyc_rejects_invalid_levels_and_changes_nothing(string body, string detail)
    {
        var id = await _bank.CreateCustomerAsync();
        var before = await _bank.CustomerSnapshotAsync(id);

        var problem = await (await Client.PutJsonAsync($"/customers/{id}/kyc", body)).ExpectProblemAsync(HttpStatusCode.BadRequest, "validation");

        Assert.Contains(detail, problem.Detail());
        Assert.Equal(before, await _bank.CustomerSnapshotAsync(id));
    }

    [Fact]
    public async Task SetKyc_of_an_unknown_customer_is_404()
    {
        await (await Client.PutJsonAsync($"/customers/{Guid.NewGuid()}/kyc", """{"level":"full"}""")).ExpectProblemAsync(HttpStatusCode.NotFound, "notFound");
    }

    [Fact]
    public async Task A_customer_lists_the_accounts_opened_for_them()
    {
        var id = await _bank.CreateCustomerAsync();
        var first = await _bank.OpenAccountAsync(id);
        var second = await _bank.OpenAccountAsync(id, "EUR", "savings");

        var customer = await (await Client.GetAsync($"/customers/{id}")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([first, second], customer.GetProperty("accountIds").EnumerateArray().Select(a => a.GetGuid()).ToArray());
    }
}
