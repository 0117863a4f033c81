using System.Globalization;
using BankGrains.Grains;
using BankGrains.Runtime;
using BankGrains.Runtime.Cluster;
using BankGrains.Runtime.Hosting;
using BankGrains.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BankGrains.Bench;

/// <summary>
/// What the cluster scenarios run against: a throwaway PostgreSQL (fsync and synchronous_commit on),
/// silo processes on 127.0.0.1, and a cluster client in this process. Disposing stops all of it;
/// so does this process dying (the silos stop when their stdin closes).
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    private readonly List<SiloChild> _children = new();
    private readonly string _logDirectory = Directory.CreateTempSubdirectory("bgbench-logs-").FullName;
    private readonly EventHandler _onExit;
    private IHost? _client;
    private bool _keepLogs;
    private int _topStatements;
    private int _walMegabytes;
    private long _walAtStart;
    // This process's own collector: the open loop's clock runs here, so a pause of the load generator
    // shows as latency too, and must be told apart from the cluster's.
    private readonly SiloTimeline _ownTimeline = SiloTimeline.Start();
    private readonly GcPauses _ownGc;

    private BenchCluster(PostgresServer postgres, string connectionString)
    {
        Postgres = postgres;
        ConnectionString = connectionString;
        _ownGc = new GcPauses(_ownTimeline);
        _onExit = (_, _) =>
        {
            foreach (var child in _children.ToArray()) child.KillNow();
            Postgres.DisposeAsync().AsTask().GetAwaiter().GetResult();
        };
        AppDomain.CurrentDomain.ProcessExit += _onExit;
    }

    public PostgresServer Postgres { get; }
    public string ConnectionString { get; }

    /// <summary>The postmaster's pid (first line of postmaster.pid): its process tree is PostgreSQL's CPU.</summary>
    public int PostgresPid => int.Parse(File.ReadLines(Path.Combine(Postgres.DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    public IReadOnlyList<SiloChild> Silos => _children.Where(c => c.Name != "api").ToList();
    public SiloChild? Api => _children.FirstOrDefault(c => c.Name == "api");
    public IServiceProvider Client => _client!.Services;
    public IGrainFactory Grains => Client.GetRequiredService<IGrainFactory>();

    /// <summary>The open loop at 70 %, when one ran: each silo's timeline is shown for its seconds at the end.</summary>
    public OpenLoopResult? OpenLoop { get; set; }

    /// <param name="topStatements">When above 0, PostgreSQL tracks its statements (pg_stat_statements) and
    /// the most expensive ones are printed at the end: where the database's time went.</param>
    /// <param name="postgresSettings">Extra server settings (<c>--pg</c>), for the baseline and the grains alike.</param>
    /// <param name="walMegabytes">WAL prepared before the run, as on a server in steady state (<see cref="PreparedWal"/>); 0: none (nothing is committed).</param>
    /// <param name="apiAsSilo">The first of the <paramref name="silos"/> is the Api (HTTP on a free port) as a silo: see <see cref="StartApiAsync"/>.</param>
    public static async Task<BenchCluster> StartAsync(int silos, IReadOnlyDictionary<string, string>? extraEnvironment, CancellationToken ct, int topStatements = 0,
        IReadOnlyList<string>? postgresSettings = null, int walMegabytes = 0, bool apiAsSilo = false)
    {
        Console.WriteLine("starting PostgreSQL (fsync=on, synchronous_commit=on" + string.Concat((postgresSettings ?? []).Select(s => ", " + s)) + ") …");
        // Room for the baseline's, the silos' and the Api's connection pools at once.
        List<string> settings = ["max_connections=600", .. walMegabytes > 0 ? PreparedWal.Settings(walMegabytes) : [], .. postgresSettings ?? []];
        if (topStatements > 0) settings.AddRange(["shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all"]);
        var postgres = await PostgresServer.StartAsync(ct, settings);
        var cluster = new BenchCluster(postgres, await postgres.CreateDatabaseAsync("bank", ct)) { _topStatements = topStatements, _walMegabytes = walMegabytes };
        try
        {
            if (topStatements > 0) await cluster.ExecuteAsync("CREATE EXTENSION pg_stat_statements", ct);
            if (walMegabytes > 0) cluster._walAtStart = await PreparedWal.PrepareAsync(cluster.ConnectionString, walMegabytes, ct);
            await cluster.StartSilosAndClientAsync(silos, extraEnvironment ?? new Dictionary<string, string>(), apiAsSilo, ct);
            return cluster;
        }
        catch
        {
            cluster._keepLogs = true;
            foreach (var child in cluster._children) Console.Error.WriteLine($"--- last lines of {child.Name} ({child.LogPath}) ---\n{child.Tail(30)}");
            await cluster.DisposeAsync();
            throw;
        }
    }

    private string _clusterId = "";

    /// <summary>
    /// Starts the Api as a cluster client on a free loopback port (unless it was started as a silo with
    /// the cluster) and waits until it is ready.
    /// </summary>
    public async Task<HttpClient> StartApiAsync(int connections, CancellationToken ct)
    {
        var api = Api;
        if (api is null)
        {
            api = SiloChild.StartApi(FreePort.Next(), ClusterEnvironment(new Dictionary<string, string>()), _logDirectory);
            _children.Add(api);
            Console.WriteLine($"started the Api (pid {api.Process.Id}) as a cluster client on http://127.0.0.1:{api.Port}, log {api.LogPath}");
        }
        var port = api.Port;
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TimeSpan.FromSeconds(60),
        };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var ready = await http.GetAsync("/health/ready", ct);
                if (ready.IsSuccessStatusCode) return http;
            }
            catch (HttpRequestException)
            {
            }
            if (api.Process.HasExited) throw new InvalidOperationException($"The Api exited with code {api.Process.ExitCode}:\n{api.Tail(40)}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The Api was not ready within 60 s:\n{api.Tail(40)}");
            await Task.Delay(200, ct);
        }
    }

    private Dictionary<string, string> ClusterEnvironment(IReadOnlyDictionary<string, string> extra) => new(extra)
    {
        ["ConnectionStrings__Postgres"] = ConnectionString,
        ["Cluster__Id"] = _clusterId,
    };

    private async Task StartSilosAndClientAsync(int silos, IReadOnlyDictionary<string, string> extra, bool apiAsSilo, CancellationToken ct)
    {
        var clusterId = _clusterId = "bench-" + Guid.NewGuid().ToString("N")[..8];
        var environment = ClusterEnvironment(extra);
        if (apiAsSilo)
        {
            var (http, siloPort) = (FreePort.Next(), FreePort.Next());
            var api = SiloChild.StartApi(http, environment, _logDirectory, siloPort);
            _children.Add(api);
            Console.WriteLine($"started the Api (pid {api.Process.Id}) as a silo on 127.0.0.1:{siloPort}, HTTP on http://127.0.0.1:{http}, log {api.LogPath}");
        }
        for (var i = 1; i <= silos - (apiAsSilo ? 1 : 0); i++)
        {
            var port = FreePort.Next();
            var child = SiloChild.Start($"silo-{i}", port, environment, _logDirectory);
            _children.Add(child);
            Console.WriteLine($"started silo-{i} (pid {child.Process.Id}) on 127.0.0.1:{port}, log {child.LogPath}");
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var settings = new Dictionary<string, string?>
        {
            ["Cluster:Id"] = clusterId,
            ["Cluster:Role"] = "client",
            ["ConnectionStrings:Postgres"] = ConnectionString,
        };
        foreach (var (key, value) in extra) settings[key.Replace("__", ":", StringComparison.Ordinal)] = value;
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddBankGrains(builder.Configuration, typeof(PingGrain).Assembly, typeof(AccountGrain).Assembly);
        _client = builder.Build();
        await _client.StartAsync(ct);

        var views = Client.GetRequiredService<IClusterViewSource>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var view = await views.RefreshAsync();
            if (view.Active.Count >= silos)
            {
                Console.WriteLine($"cluster up: {view}");
                return;
            }
            if (_children.FirstOrDefault(c => c.Process.HasExited) is { } dead)
                throw new InvalidOperationException($"{dead.Name} exited with code {dead.Process.ExitCode} before the cluster was up:\n{dead.Tail(40)}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{silos} silos were not active within 60 s; last {view}");
            await Task.Delay(200, ct);
        }
    }

    public ClusterView View => Client.GetRequiredService<IClusterViewSource>().Current;

    /// <summary>A timeline's longest pause and commit in each second of the open loop, formatted and joined.</summary>
    private static string EachSecond(OpenLoopResult open, SiloTimeline timeline, Func<(double Gc, double Commit), string> format) =>
        string.Join("  ", Enumerable.Range(0, open.PerSecond.Count).Select(i => format(timeline.Longest(open.StartedAt.AddSeconds(i), TimeSpan.FromSeconds(1)))));

    /// <summary>Keep the silo logs (a failed or suspicious run).</summary>
    public void KeepLogs() => _keepLogs = true;

    public void WarnAboutExitedSilos()
    {
        foreach (var child in _children.Where(c => c.Process.HasExited))
            Console.Error.WriteLine($"warning: {child.Name} exited during the run (code {child.Process.ExitCode}):\n{child.Tail(30)}");
    }

    public async ValueTask DisposeAsync()
    {
        Console.WriteLine("stopping client, silos and PostgreSQL …");
        if (_client is not null)
        {
            try
            {
                using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _client.StopAsync(stopTimeout.Token);
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"warning: client stop: {e.Message}");
            }
            _client.Dispose();
        }
        await Task.WhenAll(_children.Select(c => c.DisposeAsync().AsTask()));
        foreach (var child in _children)
        {
            var lastLines = child.Tail(6).Split('\n');
            foreach (var summary in lastLines.Where(l => l.StartsWith("transactions:", StringComparison.Ordinal) || l.StartsWith("gc:", StringComparison.Ordinal)))
                Console.WriteLine($"{child.Name,-12} {summary}");
            if (OpenLoop is { } open && lastLines.Select(SiloTimeline.Parse).FirstOrDefault(t => t is not null) is { } timeline)
                Console.WriteLine($"{child.Name,-12} at 70 %, each second's longest GC pause / database commit ms: " +
                    EachSecond(open, timeline, l => string.Create(CultureInfo.InvariantCulture, $"{l.Gc:0.0} / {l.Commit:0.0}")));
        }
        Console.WriteLine($"{"bench",-12} {_ownGc.Summary()}");
        if (OpenLoop is { } loop)
            Console.WriteLine($"{"bench",-12} at 70 %, each second's longest GC pause ms: " +
                EachSecond(loop, _ownTimeline, l => string.Create(CultureInfo.InvariantCulture, $"{l.Gc:0.0}")));
        _ownGc.Dispose();
        _ownTimeline.Dispose();
        if (_topStatements > 0) await PrintTopStatementsAsync();
        if (_walMegabytes > 0)
        {
            try
            {
                Console.WriteLine(await PreparedWal.ReportAsync(ConnectionString, _walMegabytes, _walAtStart));
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"warning: WAL report: {e.Message}");
            }
        }
        await Postgres.DisposeAsync();
        AppDomain.CurrentDomain.ProcessExit -= _onExit;
        if (_keepLogs)
        {
            Console.Error.WriteLine($"silo logs kept in {_logDirectory}");
            return;
        }
        try
        {
            Directory.Delete(_logDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>PostgreSQL's most expensive statements over the whole run (baseline and grains alike).</summary>
    private async Task PrintTopStatementsAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT calls, total_exec_time, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 150), total_plan_time, plans FROM pg_stat_statements " +
                "ORDER BY total_exec_time + total_plan_time DESC LIMIT @top", connection);
            command.Parameters.AddWithValue("top", _topStatements);
            await using var reader = await command.ExecuteReaderAsync();
            // Planning is tracked (and shown) only with --pg pg_stat_statements.track_planning=on.
            Console.WriteLine("postgres     statements by total execution + planning time (whole run; pg_stat_statements):");
            while (await reader.ReadAsync())
            {
                var (calls, totalMs, rows, planMs, plans) = (reader.GetInt64(0), reader.GetDouble(1), reader.GetInt64(2), reader.GetDouble(4), reader.GetInt64(5));
                // Planned about as often as called: the cached plan is not being used.
                var planning = planMs > 0 ? $" (+{planMs / Math.Max(1, calls):0.000} planning, planned {plans} times)" : "";
                Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"  {totalMs,10:0} ms {calls,9} calls {totalMs / Math.Max(1, calls),8:0.000} ms/call{planning} {rows,9} rows  {reader.GetString(3)}"));
            }
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"warning: pg_stat_statements: {e.Message}");
        }
    }
}
