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
    public static readonly IReadOnlyDictionary<string, (string Description, Func<Options, CancellationToken, Task<int>> Run)> All =
        new Dictionary<string, (string, Func<Options, CancellationToken, Task<int>>)>(StringComparer.Ordinal)
        {
            ["ping-local"] = ("ping grain calls inside one in-process silo (TestCluster, in-memory storage)", PingLocalAsync),
            ["ping-remote"] = ("ping grain calls from a cluster client to two silo processes on 127.0.0.1 (PostgreSQL membership)", PingRemoteAsync),
        };

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
        var logDirectory = Directory.CreateTempSubdirectory("bgbench-logs-").FullName;
        var children = new List<SiloChild>();
        PostgresServer? postgres = null;
        IHost? client = null;
        var keepLogs = false;
        // A SIGTERM / unhandled exit still takes the silos and PostgreSQL down with us.
        EventHandler onExit = (_, _) =>
        {
            foreach (var child in children.ToArray()) child.KillNow();
            postgres?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        };
        AppDomain.CurrentDomain.ProcessExit += onExit;
        try
        {
            Console.WriteLine("starting PostgreSQL (membership table) …");
            postgres = await PostgresServer.StartAsync(ct);
            var clusterId = "bench-" + Guid.NewGuid().ToString("N")[..8];
            var environment = new Dictionary<string, string>
            {
                ["ConnectionStrings__Postgres"] = postgres.ConnectionString,
                ["Cluster__Id"] = clusterId,
            };

            for (var i = 1; i <= options.Silos; i++)
            {
                var port = FreePort.Next();
                var child = SiloChild.Start($"silo-{i}", port, environment, logDirectory);
                children.Add(child);
                Console.WriteLine($"started silo-{i} (pid {child.Process.Id}) on 127.0.0.1:{port}, log {child.LogPath}");
            }

            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Cluster:Id"] = clusterId,
                ["Cluster:Role"] = "client",
                ["ConnectionStrings:Postgres"] = postgres.ConnectionString,
            });
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddSingleton(NpgsqlDataSource.Create(postgres.ConnectionString));
            builder.Services.AddBankGrainsClient([typeof(PingGrain).Assembly], ClusterConfiguration.PostgresMembership);
            client = builder.Build();
            await client.StartAsync(ct);

            var views = client.Services.GetRequiredService<IClusterViewSource>();
            var view = await WaitForSilosAsync(views, children, options.Silos, ct);
            Console.WriteLine($"cluster up: {view}");

            var factory = client.Services.GetRequiredService<IGrainFactory>();
            var grains = Enumerable.Range(0, options.Grains).Select(i => factory.GetGrain<IPingGrain>(i)).ToArray();

            var cpu = new CpuMeter();
            using var self = Process.GetCurrentProcess();
            cpu.Track("bench", self);
            foreach (var child in children) cpu.Track(child.Name, child.Process);
            var result = await PingAsync(grains, options, cpu, ct);
            var usage = cpu.Stop();

            // Which silo served each call: the owner of its grain in the client's view (the same ring the silos use).
            var ring = views.Current;
            var perSilo = children.Select(child =>
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
            foreach (var child in children)
            {
                if (child.Process.HasExited) Console.Error.WriteLine($"warning: {child.Name} exited during the run (code {child.Process.ExitCode}):\n{child.Tail(30)}");
            }
            Report.Print("ping-remote", options, result, perSilo, usage);
            keepLogs = result.Calls == 0 || result.Errors > 0;
            return result.Calls > 0 ? 0 : 1;
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            keepLogs = true;
            foreach (var child in children) Console.Error.WriteLine($"--- last lines of {child.Name} ({child.LogPath}) ---\n{child.Tail(30)}");
            throw;
        }
        finally
        {
            Console.WriteLine("stopping client, silos and PostgreSQL …");
            if (client is not null)
            {
                try
                {
                    using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await client.StopAsync(stopTimeout.Token);
                }
                catch (Exception e)
                {
                    Console.Error.WriteLine($"warning: client stop: {e.Message}");
                }
                client.Dispose();
            }
            await Task.WhenAll(children.Select(c => c.DisposeAsync().AsTask()));
            if (postgres is not null) await postgres.DisposeAsync();
            AppDomain.CurrentDomain.ProcessExit -= onExit;
            if (!keepLogs)
            {
                try
                {
                    Directory.Delete(logDirectory, recursive: true);
                }
                catch (IOException)
                {
                }
            }
            else
            {
                Console.Error.WriteLine($"silo logs kept in {logDirectory}");
            }
        }
    }

    private static async Task<ClusterView> WaitForSilosAsync(IClusterViewSource views, IReadOnlyList<SiloChild> children, int count, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var view = await views.RefreshAsync();
            if (view.Active.Count >= count) return view;
            if (children.FirstOrDefault(c => c.Process.HasExited) is { } dead)
                throw new InvalidOperationException($"{dead.Name} exited with code {dead.Process.ExitCode} before the cluster was up:\n{dead.Tail(40)}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{count} silos were not active within 60 s; last {view}");
            await Task.Delay(200, ct);
        }
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
