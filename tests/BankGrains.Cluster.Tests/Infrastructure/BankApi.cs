using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace BankGrains.Cluster.Tests.Infrastructure;

/// <summary>One entry of GET /cluster/silos.</summary>
public sealed record SiloView(string Address, int Port, int Generation, string Name, string Status, int AccountActivations);

/// <summary>What became of one deposit request, as the client saw it.</summary>
public enum DepositOutcome
{
    /// <summary>200: the bank says it is applied.</summary>
    Acknowledged,

    /// <summary>4xx: the bank says it is not applied.</summary>
    Refused,

    /// <summary>5xx (504 timeout, 503 unavailable, 500 …), a broken connection or no answer: may or may not be applied.</summary>
    Unknown,
}

/// <summary>The REST API of the cluster client process, as a bank's channel would call it.</summary>
public sealed class BankApi(HttpClient client)
{
    public HttpClient Client { get; } = client;

    public async Task<Guid> CreateCustomerAsync(string name, CancellationToken ct)
    {
        var body = $$"""{"name":"{{name}}","email":"{{name.ToLowerInvariant().Replace(' ', '.')}}@example.com"}""";
        return (await ExpectAsync(await Client.PostAsync("/customers", Json(body), ct), HttpStatusCode.Created, "POST /customers", ct)).GetProperty("id").GetGuid();
    }

    public async Task<Guid> OpenAccountAsync(Guid customer, CancellationToken ct)
    {
        var body = $$"""{"customerId":"{{customer}}","currency":"USD","product":"checking"}""";
        return (await ExpectAsync(await Client.PostAsync("/accounts", Json(body), ct), HttpStatusCode.Created, "POST /accounts", ct)).GetProperty("id").GetGuid();
    }

    /// <summary>The balance GET /accounts/{id} reports.</summary>
    public async Task<decimal> BalanceAsync(Guid account, CancellationToken ct)
    {
        var json = await ExpectAsync(await Client.GetAsync($"/accounts/{account}", ct), HttpStatusCode.OK, $"GET /accounts/{account}", ct);
        var balance = json.GetProperty("balance");
        if (balance.GetProperty("currency").GetString() != "USD") throw new InvalidOperationException($"account {account} is not in USD: {json}");
        return decimal.Parse(balance.GetProperty("amount").GetString()!, NumberStyles.Number, CultureInfo.InvariantCulture);
    }

    /// <summary>One deposit, classified; never throws except when <paramref name="ct"/> is cancelled.</summary>
    public async Task<(DepositOutcome Outcome, string Detail)> DepositAsync(Guid account, decimal amount, CancellationToken ct)
    {
        var text = amount.ToString("0.00", CultureInfo.InvariantCulture);
        try
        {
            using var response = await Client.PostAsync($"/accounts/{account}/deposits", Json($$$"""{"amount":{"amount":"{{{text}}}","currency":"USD"}}"""), ct);
            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.OK) return (DepositOutcome.Acknowledged, "200");
            var body = await response.Content.ReadAsStringAsync(ct);
            var detail = $"{status} {Shorten(body)}";
            return (status is >= 400 and < 500 ? DepositOutcome.Refused : DepositOutcome.Unknown, detail);
        }
        catch (HttpRequestException e)
        {
            return (DepositOutcome.Unknown, $"no response: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return (DepositOutcome.Unknown, $"no response within {Client.Timeout.TotalSeconds} s");
        }
    }

    /// <summary>GET /health/ready answers 200.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken ct)
    {
        try
        {
            using var response = await Client.GetAsync("/health/ready", ct);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>GET /cluster/silos, or null when the API does not answer 200.</summary>
    public async Task<IReadOnlyList<SiloView>?> SilosAsync(CancellationToken ct)
    {
        try
        {
            using var response = await Client.GetAsync("/cluster/silos", ct);
            if (response.StatusCode != HttpStatusCode.OK) return null;
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            return document.RootElement.EnumerateArray().Select(silo =>
            {
                var accounts = 0;
                if (silo.TryGetProperty("activationsByGrainType", out var activations) && activations.ValueKind == JsonValueKind.Object
                    && activations.TryGetProperty("account", out var count))
                    accounts = count.GetInt32();
                return new SiloView(silo.GetProperty("address").GetString()!, silo.GetProperty("port").GetInt32(), silo.GetProperty("generation").GetInt32(),
                    silo.GetProperty("name").GetString()!, silo.GetProperty("status").GetString()!, accounts);
            }).ToList();
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return null;
        }
    }

    public static string Describe(IReadOnlyList<SiloView>? silos) => silos is null
        ? "(no answer)"
        : string.Join(", ", silos.Select(s => $"{s.Name} {s.Address} {s.Status} accounts={s.AccountActivations}"));

    private static StringContent Json(string json)
    {
        var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode expected, string what, CancellationToken ct)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode != expected)
                throw new InvalidOperationException($"{what}: expected {(int)expected} but got {(int)response.StatusCode}: {body}");
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
    }

    private static string Shorten(string body) => body.Length <= 300 ? body : body[..300] + "…";
}
