using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit;

namespace BankGrains.Api.Tests.Infrastructure;

/// <summary>Raw-JSON requests (so tests can send exactly the malformed bodies clients send) and response checks.</summary>
public static class Http
{
    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, string json) =>
        client.PostAsync(url, Json(json));

    /// <summary>A POST that moves money, with its Idempotency-Key (a new one unless given).</summary>
    public static Task<HttpResponseMessage> PostMovementAsync(this HttpClient client, string url, string json, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = Json(json) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey ?? Guid.NewGuid().ToString());
        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, string json) =>
        client.PutAsync(url, Json(json));

    public static StringContent Json(string json)
    {
        var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"{(int)response.StatusCode} response is not JSON: {e.Message}\n{text}");
        }
    }

    /// <summary>Asserts a success status and returns the JSON body.</summary>
    public static async Task<JsonElement> ExpectAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        if (response.StatusCode != status)
            Assert.Fail($"Expected {(int)status} but got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return await response.ReadJsonAsync();
    }

    /// <summary>
    /// Asserts an RFC 9457 problem: the status, application/problem+json, the members type/title/status/detail/instance
    /// and the extensions code and traceId, with type = /problems/&lt;kebab-code&gt;. Returns the problem.
    /// </summary>
    public static async Task<JsonElement> ExpectProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status} {code} but got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);

        var problem = await response.ReadJsonAsync();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal("/problems/" + JsonNamingPolicy.KebabCaseLower.ConvertName(code), problem.GetProperty("type").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()), text);
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()), text);
        Assert.StartsWith("/", problem.GetProperty("instance").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("traceId").GetString()), text);
        return problem;
    }

    public static string Detail(this JsonElement problem) => problem.GetProperty("detail").GetString()!;

    public static string Str(this JsonElement element, string property) => element.GetProperty(property).GetString()!;

    /// <summary>The amount string of a Money member, checking it is {"amount":"…","currency":"…"}.</summary>
    public static string Amount(this JsonElement element, string property, string currency = "USD")
    {
        var money = element.GetProperty(property);
        Assert.Equal(JsonValueKind.String, money.GetProperty("amount").ValueKind);
        Assert.Equal(currency, money.GetProperty("currency").GetString());
        return money.GetProperty("amount").GetString()!;
    }
}
