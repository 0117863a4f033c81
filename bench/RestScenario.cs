using System.Diagnostics;
using System.Net;
using System.Text;

namespace BankGrains.Bench;

/// <summary>
/// uniform-rest: the uniform transfers of uniform-client, sent as HTTP requests (POST /transfers with
/// an Idempotency-Key) to the Api on loopback: a cluster client in its own process, or (<c>--api silo</c>)
/// one of the silos, serving HTTP and running grains in one process.
/// </summary>
public static class RestScenario
{
    public static async Task<int> UniformRestAsync(Options options, CancellationToken ct)
    {
        var n = Math.Max(2, options.Accounts);
        await FsyncRate.PrintAsync(ct);
        await using var cluster = await BenchCluster.StartAsync(options.Silos, null, ct, options.PgStatements, options.PgSettings, options.WalMegabytes,
            apiAsSilo: options.ApiInSilo);
        using var http = await cluster.StartApiAsync(options.Concurrency, ct);

        Console.WriteLine($"opening and funding {n} USD accounts …");
        var accounts = await TransferScenarios.OpenAccountsAsync(cluster.Grains, n, ct);

        using var self = Process.GetCurrentProcess();
        Task Transfer(int from, int to) => PostTransferAsync(http, accounts[from], accounts[to]);
        var (baselineResult, result, usage, baselineUsage) = await TransferScenarios.MeasureRoundsAsync(cluster, options, n, hot: false, options.ApiInSilo ? "REST: POST /transfers to the Api, a silo itself …" : "REST: POST /transfers to the Api process …", cpu =>
        {
            cpu.Track("bench", self);
            foreach (var child in cluster.Silos) cpu.Track(child.Name, child.Process);
            if (cluster.Api is { } api) cpu.Track("api", api.Process);
        }, Transfer, ct);
        var atSeventy = await TransferScenarios.AtSeventyPercentAsync(result, options, n, Transfer, hot: false, ct);
        cluster.OpenLoop = atSeventy;
        cluster.WarnAboutExitedSilos();

        await TransferScenarios.CheckAsync(cluster, accounts, ct);
        Report.Print("uniform-rest", options, result, [("all silos", result.CallsPerSecond)], usage, baselineResult, atSeventy, baselineUsage);
        if (result.Errors > 0) cluster.KeepLogs();
        return result.Calls > 0 ? 0 : 1;
    }

    private static async Task PostTransferAsync(HttpClient http, Guid from, Guid to)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/transfers")
        {
            Content = new StringContent(
                $$$"""{"fromAccountId":"{{{from}}}","toAccountId":"{{{to}}}","amount":{"amount":"1.00","currency":"USD"}}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        using var response = await http.SendAsync(request).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"POST /transfers answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
    }
}
