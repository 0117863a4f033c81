using System.Diagnostics;
using System.Globalization;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Transactions;
using Microsoft.Extensions.DependencyInjection;

namespace BankGrains.Bench;

/// <summary>
/// Transfers through the cluster client (no HTTP): uniform among N accounts, or all into one hot
/// account; each run also measures the stored-procedure baseline on the same PostgreSQL server at the
/// same concurrency, and checks afterwards that money was conserved and the ledger verifies.
/// </summary>
public static class TransferScenarios
{
    internal const decimal Funding = 1_000_000m;
    internal static readonly Money Amount = new(1.00m, Currency.USD);

    public static Task<int> UniformClientAsync(Options options, CancellationToken ct) => RunAsync("uniform-client", hot: false, options, ct);

    public static Task<int> HotAccountAsync(Options options, CancellationToken ct) => RunAsync("hot-account", hot: true, options, ct);

    private static async Task<int> RunAsync(string scenario, bool hot, Options options, CancellationToken ct)
    {
        var n = Math.Max(2, options.Accounts);
        await FsyncRate.PrintAsync(ct);
        await using var cluster = await BenchCluster.StartAsync(options.Silos, null, ct, options.PgStatements, options.PgSettings, options.WalMegabytes);
        var grains = cluster.Grains;

        Console.WriteLine($"opening and funding {n} USD accounts …");
        var accounts = await OpenAccountsAsync(grains, n, ct);

        using var self = Process.GetCurrentProcess();
        Task Transfer(int from, int to) =>
            grains.GetGrain<ITellerGrain>(Tellers.For(accounts[from])).TransferAsync(new TransferOrder(Guid.CreateVersion7(), accounts[from], accounts[to], Amount, null));
        var (baselineResult, result, usage, baselineUsage) = await MeasureRoundsAsync(cluster, options, n, hot, "grains: transfers through the teller grain …", cpu =>
        {
            cpu.Track("bench", self);
            foreach (var child in cluster.Silos) cpu.Track(child.Name, child.Process);
        }, Transfer, ct);
        var atSeventy = await AtSeventyPercentAsync(result, options, n, Transfer, hot, ct);
        cluster.OpenLoop = atSeventy;
        cluster.WarnAboutExitedSilos();

        await CheckAsync(cluster, accounts, ct);
        Report.Print(scenario, options, result, [("all silos", result.CallsPerSecond)], usage, baselineResult, atSeventy, baselineUsage);
        if (result.Errors > 0) cluster.KeepLogs();
        return result.Calls > 0 ? 0 : 1;
    }

    /// <summary>
    /// The baseline and then the grains, <c>--rounds</c> times in turn, so a machine whose speed drifts
    /// during the run drifts for both alike. With several rounds each is listed, and the one with the
    /// median ratio is the one reported (its latency and CPU too).
    /// </summary>
    /// <param name="track">Adds the processes whose CPU the grains' measurement reports.</param>
    internal static async Task<MeasuredRound> MeasureRoundsAsync(BenchCluster cluster, Options options, int n, bool hot, string title,
        Action<CpuMeter> track, Func<int, int, Task> transfer, CancellationToken ct)
    {
        var rounds = new List<MeasuredRound>();
        for (var round = 1; round <= options.Rounds; round++)
        {
            if (options.Rounds > 1) Console.WriteLine($"round {round} of {options.Rounds} …");
            var (baseline, baselineCpu) = await MeasureBaselineAsync(cluster, options, n, hot, ct);
            Console.WriteLine(title);
            var cpu = new CpuMeter();
            track(cpu);
            cpu.TrackTree(Report.PostgresName, cluster.PostgresPid);
            var grains = await MeasureAsync(options, n, cpu, ct, transfer, hot);
            rounds.Add(new MeasuredRound(baseline, grains, cpu.Stop(), baselineCpu));
        }
        if (rounds.Count == 1) return rounds[0];
        var inv = CultureInfo.InvariantCulture;
        for (var i = 0; i < rounds.Count; i++)
            Console.WriteLine(string.Create(inv, $"round {i + 1,-6} {rounds[i].Grains.CallsPerSecond:N0} calls/s, baseline {rounds[i].Baseline.CallsPerSecond:N0}: {rounds[i].Ratio:0.00}×"));
        var median = rounds.OrderBy(r => r.Ratio).ElementAt(rounds.Count / 2);
        Console.WriteLine(string.Create(inv, $"rounds       ratios {rounds.Min(r => r.Ratio):0.00}–{rounds.Max(r => r.Ratio):0.00}×; reported below: round {rounds.IndexOf(median) + 1}, the median"));
        return median;
    }

    internal sealed record MeasuredRound(LoadResult Baseline, LoadResult Grains, CpuUsage Cpu, CpuUsage BaselineCpu)
    {
        public double Ratio => Baseline.CallsPerSecond > 0 ? Grains.CallsPerSecond / Baseline.CallsPerSecond : 0;
    }

    /// <summary>The same transfers as a PostgreSQL function; its connections are closed before the grains run.</summary>
    internal static async Task<(LoadResult Result, CpuUsage Cpu)> MeasureBaselineAsync(BenchCluster cluster, Options options, int n, bool hot, CancellationToken ct)
    {
        Console.WriteLine("baseline: the same transfers as a PostgreSQL function, same server and callers …");
        await using var baseline = await StoredProcedureBaseline.CreateAsync(cluster, n, Funding, options.Concurrency, ct);
        using var self = Process.GetCurrentProcess();
        var cpu = new CpuMeter();
        cpu.Track("bench", self);
        cpu.TrackTree(Report.PostgresName, cluster.PostgresPid);
        var result = await MeasureAsync(options, n, cpu, ct, (from, to) => baseline.TransferAsync(from, to, Amount.Amount), hot);
        if (await baseline.TotalAsync() != n * Funding) throw new InvalidOperationException("The baseline did not conserve money.");
        return (result, cpu.Stop());
    }

    /// <summary>Closed loop over the accounts: uniform picks a random other account, hot sends everything to account 0.</summary>
    internal static Task<LoadResult> MeasureAsync(Options options, int n, CpuMeter cpu, CancellationToken ct, Func<int, int, Task> transfer, bool hot)
    {
        Console.WriteLine($"warming up {options.Warmup} s, then measuring {options.Seconds} s with {options.Concurrency} callers …");
        return ClosedLoopLoad.RunAsync(options.Concurrency, n, TimeSpan.FromSeconds(options.Warmup), TimeSpan.FromSeconds(options.Seconds),
            (target, _) =>
            {
                if (hot) return transfer(1 + target % (n - 1), 0);
                var to = (target + 1 + Random.Shared.Next(n - 1)) % n;
                return transfer(target, to);
            },
            cpu.Start, cpu.StopNow, ct);
    }

    /// <summary>Latency under a steady load below saturation: open loop at 70 % of the peak just measured.</summary>
    internal static Task<OpenLoopResult> AtSeventyPercentAsync(LoadResult peak, Options options, int n, Func<int, int, Task> transfer, bool hot, CancellationToken ct)
    {
        var rate = Math.Max(1, 0.7 * peak.CallsPerSecond);
        Console.WriteLine($"open loop at {rate:N0}/s for {options.Seconds} s …");
        return OpenLoopLoad.RunAsync(rate, TimeSpan.FromSeconds(options.Seconds), maxOutstanding: 10 * options.Concurrency, i =>
        {
            var from = hot ? 1 + (int)(i % (n - 1)) : (int)(i % n);
            var to = hot ? 0 : (from + 1 + Random.Shared.Next(n - 1)) % n;
            return transfer(from, to);
        }, ct);
    }

    internal static async Task<Guid[]> OpenAccountsAsync(Runtime.IGrainFactory grains, int n, CancellationToken ct)
    {
        var accounts = new Guid[n];
        var customers = Enumerable.Range(0, (n + 99) / 100).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var customer in customers) await grains.GetGrain<ICustomerGrain>(customer).CreateAsync("Bench Customer", "bench@example.com");
        await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, _) =>
        {
            var account = Guid.CreateVersion7();
            // Accounts of one customer are opened one after another: each opening updates the customer too.
            await grains.GetGrain<ICustomerGrain>(customers[i % customers.Length]).OpenAccountAsync(account, Currency.USD, AccountProduct.Checking, 0m);
            await RetryAbortsAsync(() => grains.GetGrain<ITellerGrain>(Tellers.For(account)).DepositAsync(new CashOrder(Guid.CreateVersion7(), account, new Money(Funding, Currency.USD))));
            accounts[i] = account;
        });
        return accounts;
    }

    private static async Task RetryAbortsAsync(Func<Task> action)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await action();
                return;
            }
            catch (TransactionAbortedException) when (attempt < 10)
            {
            }
        }
    }

    /// <summary>Money is conserved (accounts + the cash account = 0) and the ledger verifies: a figure from a broken run means nothing.</summary>
    internal static async Task CheckAsync(BenchCluster cluster, Guid[] accounts, CancellationToken ct)
    {
        var grains = cluster.Grains;
        decimal sum = 0;
        foreach (var account in accounts) sum += (await grains.GetGrain<IAccountGrain>(account).GetAsync()).Balance.Amount;
        var cash = (await grains.GetGrain<ICashAccountGrain>("USD").GetBalanceAsync()).Amount;
        var verification = await cluster.Client.GetRequiredService<ILedgerStore>().VerifyAsync(ct);
        Console.WriteLine($"check        accounts hold {sum:N2} USD (funded {accounts.Length * Funding:N2}); cash account {cash:N2}; " +
                          $"ledger {(verification.Ok ? "verifies" : "DOES NOT verify")} ({verification.EntriesChecked:N0} entries)");
        if (sum != accounts.Length * Funding || sum + cash != 0 || !verification.Ok)
            throw new InvalidOperationException("Money was not conserved or the ledger does not verify: " + string.Join("; ", verification.Problems.Take(5)));
    }
}
