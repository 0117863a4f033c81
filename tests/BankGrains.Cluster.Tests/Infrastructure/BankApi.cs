using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace BankGrains.Cluster.Tests.Infrastructure;

/// <summary>One entry of GET /cluster/silos, with its activations per grain type (none when the silo did not answer).</summary>
public sealed record SiloView(string Address, int Port, int Generation, string Name, string Status, IReadOnlyDictionary<string, int> Activations)
{
    public int AccountActivations => ActivationsOf("account");

    public int ActivationsOf(string grainType) => Activations.TryGetValue(grainType, out var count) ? count : 0;
}

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
    public const string IdempotencyKeyHeader = "Idempotency-Key";

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

    /// <summary>A read changes nothing, so it may be retried; a moment after a failover the first one can fail.</summary>
    public async Task<decimal> BalanceAfterFailoverAsync(Guid account, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await BalanceAsync(account, ct);
            }
            catch (Exception e) when (attempt < 5 && e is InvalidOperationException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                await Task.Delay(500, ct);
            }
        }
    }

    /// <summary>One deposit under a fresh Idempotency-Key (deposits need one), classified; never throws except when <paramref name="ct"/> is cancelled.</summary>
    public Task<(DepositOutcome Outcome, string Detail)> DepositAsync(Guid account, decimal amount, CancellationToken ct) =>
        DepositAsync(account, amount, $"deposit-{Guid.NewGuid():N}", ct);

    /// <summary>One deposit under <paramref name="idempotencyKey"/> (the same key for a retry of the same deposit), classified.</summary>
    public async Task<(DepositOutcome Outcome, string Detail)> DepositAsync(Guid account, decimal amount, string idempotencyKey, CancellationToken ct)
    {
        var (outcome, _, detail) = await SendDepositAsync(account, amount, idempotencyKey, ct);
        return (outcome, detail);
    }

    /// <summary>
    /// A deposit that must happen (funding a test's accounts): retried with the same Idempotency-Key
    /// until it is acknowledged, so it is applied exactly once. An aborted transaction (nothing changed)
    /// is retried too; any other refusal, or no definite answer within the attempts, throws.
    /// </summary>
    public async Task FundAsync(Guid account, decimal amount, CancellationToken ct)
    {
        var key = $"fund-{account:N}";
        var answers = new List<string>();
        for (var attempt = 1; attempt <= 20; attempt++)
        {
            var (outcome, code, detail) = await SendDepositAsync(account, amount, key, ct);
            answers.Add(detail);
            if (outcome == DepositOutcome.Acknowledged) return;
            if (outcome == DepositOutcome.Refused && code != "transactionAborted") break;
            await Task.Delay(500, ct);
        }
        throw new InvalidOperationException($"funding {account} with {amount:0.00} (key {key}) failed: {string.Join(" | ", answers)}");
    }

    private async Task<(DepositOutcome Outcome, string? Code, string Detail)> SendDepositAsync(Guid account, decimal amount, string idempotencyKey, CancellationToken ct)
    {
        var text = amount.ToString("0.00", CultureInfo.InvariantCulture);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/accounts/{account}/deposits")
            {
                Content = Json($$$"""{"amount":{"amount":"{{{text}}}","currency":"USD"}}"""),
            };
            request.Headers.Add(IdempotencyKeyHeader, idempotencyKey);
            using var response = await Client.SendAsync(request, ct);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode) return (DepositOutcome.Acknowledged, null, status.ToString(CultureInfo.InvariantCulture));
            var body = await response.Content.ReadAsStringAsync(ct);
            var code = ProblemCode(body);
            // A key still running (409 idempotencyKeyInProgress) has no outcome yet.
            var inProgress = status == 409 && code == "idempotencyKeyInProgress";
            return (status is >= 400 and < 500 && !inProgress ? DepositOutcome.Refused : DepositOutcome.Unknown, code, $"{status} {Shorten(body)}");
        }
        catch (HttpRequestException e)
        {
            return (DepositOutcome.Unknown, null, $"no response: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return (DepositOutcome.Unknown, null, $"no response within {Client.Timeout.TotalSeconds} s");
        }
    }

    /// <summary>POST /transfers with the request's Idempotency-Key and body; never throws except when <paramref name="ct"/> is cancelled.</summary>
    public async Task<TransferAnswer> TransferAsync(TransferRequest transfer, CancellationToken ct)
    {
        var sent = DateTime.UtcNow;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/transfers") { Content = Json(transfer.Body) };
            request.Headers.Add(IdempotencyKeyHeader, transfer.Key);
            using var response = await Client.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values)
                           && values.Any(v => string.Equals(v, "true", StringComparison.OrdinalIgnoreCase));
            return TransferAnswer.From(sent, DateTime.UtcNow, (int)response.StatusCode, body, replayed);
        }
        catch (HttpRequestException e)
        {
            return TransferAnswer.NoResponse(sent, DateTime.UtcNow, $"no response: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return TransferAnswer.NoResponse(sent, DateTime.UtcNow, $"no response within {Client.Timeout.TotalSeconds} s");
        }
    }

    /// <summary>GET /transfers/{id}: the HTTP status, the transfer's "status" member when it answered 200, and the body.</summary>
    public async Task<(int Http, string? Status, string Body)> TransferStatusAsync(Guid id, CancellationToken ct)
    {
        using var response = await Client.GetAsync($"/transfers/{id}", ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        string? status = null;
        if (response.StatusCode == HttpStatusCode.OK)
        {
            using var document = JsonDocument.Parse(body);
            status = document.RootElement.TryGetProperty("status", out var s) ? s.GetString() : null;
        }
        return ((int)response.StatusCode, status, Shorten(body));
    }

    /// <summary>GET /ledger/verify: whether the ledger holds together, and the whole answer.</summary>
    public async Task<(bool Ok, string Body)> VerifyLedgerAsync(CancellationToken ct)
    {
        var json = await ExpectAsync(await Client.GetAsync("/ledger/verify", ct), HttpStatusCode.OK, "GET /ledger/verify", ct);
        return (json.GetProperty("ok").GetBoolean(), json.ToString());
    }

    /// <summary>The "code" member of a problem+json body, if it is one.</summary>
    public static string? ProblemCode(string body) => ProblemMember(body, "code");

    /// <summary>A string member of a JSON object body, or null (not JSON, not an object, no such member).</summary>
    public static string? ProblemMember(string body, string name)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var value)
                   && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
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
                var counts = new Dictionary<string, int>();
                if (silo.TryGetProperty("activationsByGrainType", out var activations) && activations.ValueKind == JsonValueKind.Object)
                    foreach (var type in activations.EnumerateObject()) counts[type.Name] = type.Value.GetInt32();
                return new SiloView(silo.GetProperty("address").GetString()!, silo.GetProperty("port").GetInt32(), silo.GetProperty("generation").GetInt32(),
                    silo.GetProperty("name").GetString()!, silo.GetProperty("status").GetString()!, counts);
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
        : string.Join(", ", silos.Select(s => $"{s.Name} {s.Address} {s.Status} accounts={s.AccountActivations}" +
                                              (s.ActivationsOf("teller") > 0 ? $" tellers={s.ActivationsOf("teller")}" : "")));

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

    public static string Shorten(string body) => body.Length <= 300 ? body : body[..300] + "…";
}
