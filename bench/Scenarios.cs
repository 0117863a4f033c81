using System.Diagnostics;
using BankGrains.Runtime;
using BankGrains.Runtime.Cluster;
using BankGrains.Runtime.Hosting;
using BankGrains.Runtime.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using BankGrains.TestSupport;
using Npgsql;

namespace BankGrains.Bench;

public static class Scenarios
{
    private static readonly Options PingDefaults = new(Seconds: 10, Warmup: 3, Concurrency: 256, Grains: 1024, Silos: 2);

    // Steady state, not start-up: the processes keep compiling their hot paths to optimised code
    // (tiered JIT) for a while under load. After 3 s of warm-up a tenth of the silo's CPU and a quarter
    // of the Api's still went to the JIT (perf); after 15 s the silo used 106 instead of 150 µs per transfer.
    private static readonly Options TransferDefaults = new(Seconds: 10, Warmup: 15, Concurrency: 64, Grains: 0, Silos: 1, Accounts: 1000);

    public static readonly IReadOnlyDictionary<string, Scenario> All = new Dictionary<string, Scenario>(StringComparer.Ordinal)
    {
        ["uniform-client"] = new("transfers among N accounts through the cluster client (silo processes, PostgreSQL), vs the stored-procedure baseline",
            TransferScenarios.UniformClientAsync, TransferDefaults),
        ["uniform-rest"] = new("the uniform transfers as HTTP POST /transfers to the Api process (cluster client), vs the stored-procedure baseline",
            RestScenario.UniformRestAsync, TransferDefaults),
        ["hot-account"] = new("transfers from N−1 accounts into one hot account, vs the stored-procedure baseline", TransferScenarios.HotAccountAsync, TransferDefaults),
        ["ping-local"] = new("ping grain calls inside one in-process silo (TestCluster, in-memory storage)", PingLocalAsync, PingDefaults),
        ["ping-remote"] = new("ping grain calls from a cluster client to two silo processes on 127.0.0.1 (PostgreSQL membership)", PingRemoteAsync, PingDefaults),
    };

    public sealed record Scenario(string Description, Func<Options, CancellationToken, Task<int>> Run, Options Defaults);

    private static async Task<int> PingLocalAsync(Options options, CancellationToken ct)
    {
        Console.WriteLine("starting one in-process silo …");
        await using var cluster = await TestCluster.StartAsync(o => o.ConfigureSilo = s => s.AddGrains(typeof(PingGrain).Assembly));
        var factory = cluster.GrainFactory;
        var grains = Enumerable.Range(0, options.Grains).Select(i => factory.GetGrain<IPingGrain>(i)).ToArray();

        var cpu = new CpuMeter();
        using var self = Process.GetCurrentProcess();
        cpu.Track("bench", self); // client and silo are the same process here
        var result = await PingAsync(grains, options, cpu, ct);
        var usage = cpu.Stop();
        Report.Print("ping-local", options, result, [("the silo", result.CallsPerSecond)], usage);
        return result.Calls > 0 ? 0 : 1;
    }

    private static async Task<int> PingRemoteAsync(Options options, CancellationToken ct)
    {
        await using var cluster = await BenchCluster.StartAsync(options.Silos, null, ct, options.PgStatements, options.PgSettings);
        var factory = cluster.Grains;
        var grains = Enumerable.Range(0, options.Grains).Select(i => factory.GetGrain<IPingGrain>(i)).ToArray();

        var cpu = new CpuMeter();
        using var self = Process.GetCurrentProcess();
        cpu.Track("bench", self);
        foreach (var child in cluster.Silos) cpu.Track(child.Name, child.Process);
        var result = await PingAsync(grains, options, cpu, ct);
        var usage = cpu.Stop();

        // Which silo served each call: the owner of its grain in the client's view (the same ring the silos use).
        var ring = cluster.View;
        var perSilo = cluster.Silos.Select(child =>
        {
            long calls = 0;
            var owned = 0;
            for (var t = 0; t < grains.Length; t++)
            {
                var owner = ring.OwnerOf(((GrainReference)(object)grains[t]).GrainId);
                if (owner.Port != child.Port) continue;
                calls += result.CallsPerTarget[t];
                owned++;
            }
            return ($"{child.Name} (owns {owned} of {grains.Length} grains)", calls / result.Seconds);
        }).ToList();
        cluster.WarnAboutExitedSilos();
        Report.Print("ping-remote", options, result, perSilo, usage);
        if (result.Calls == 0 || result.Errors > 0) cluster.KeepLogs();
        return result.Calls > 0 ? 0 : 1;
    }

    /// <summary>Closed-loop pings over <paramref name="grains"/>: warm-up, then the measured window; every answer is checked.</summary>
    private static Task<LoadResult> PingAsync(IPingGrain[] grains, Options options, CpuMeter cpu, CancellationToken ct)
    {
        Console.WriteLine($"warming up {options.Warmup} s, then measuring {options.Seconds} s …");
        return ClosedLoopLoad.RunAsync(options.Concurrency, options.Grains,
            TimeSpan.FromSeconds(options.Warmup), TimeSpan.FromSeconds(options.Seconds),
            async (target, n) =>
            {
                var answer = await grains[target].PingAsync(n).ConfigureAwait(false);
                if (answer != n + 1) throw new InvalidOperationException($"ping({n}) answered {answer}");
            },
            cpu.Start, cpu.StopNow, ct);
    }
}
