using System.Diagnostics;
using System.Globalization;
using System.Text;
using BankGrains.TestSupport;
using Xunit.Abstractions;

namespace BankGrains.Cluster.Tests.Infrastructure;

/// <summary>A silo process and the membership row of its current incarnation.</summary>
public sealed class SiloProcess(string name, int port, ChildProcess process, MembershipRow row)
{
    public string Name { get; } = name;

    public int Port { get; } = port;

    public ChildProcess Process { get; } = process;

    /// <summary>Its membership row once it was Active (address, port, generation).</summary>
    public MembershipRow Row { get; } = row;

    /// <summary>"127.0.0.1:port@generation", as grain_state.writer and /cluster/silos write it.</summary>
    public string Identity => Row.Identity;

    public override string ToString() => $"{Name} {Identity} (pid {Process.Pid})";
}

/// <summary>
/// A cluster of real processes on 127.0.0.1 for one test: a fresh PostgreSQL database, Silo
/// processes (BankGrains.Silo.dll) and one Api process as a cluster client (BankGrains.Api.dll),
/// all with sub-second failure detection. Keeps a timeline of what the test did, and a log file per
/// process; <see cref="Report"/> prints both. Dispose stops every process it started.
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    /// <summary>Grain calls give up after this (Orleans' default is 30 s); shorter keeps timed-out deposits inside a test's bounds.</summary>
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(40);
    private const int LogTailLines = 60;

    private readonly ITestOutputHelper _output;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<string> _timeline = new();
    private readonly List<ChildProcess> _children = new();
    private readonly List<SiloProcess> _silos = new();
    private readonly List<IClientLoad> _loads = new();
    private readonly TempDirectory _logs;
    private readonly IReadOnlyDictionary<string, string> _extraEnvironment;
    private bool _keepLogs;
    private int _processCounter;

    private ProcessCluster(ITestOutputHelper output, string name, string connectionString, IReadOnlyDictionary<string, string>? environment)
    {
        _output = output;
        _extraEnvironment = environment ?? new Dictionary<string, string>();
        _logs = new TempDirectory($"bankgrains-cluster-{name}-");
        ClusterId = $"{name}-{Guid.NewGuid():N}";
        Database = new ClusterDatabase(connectionString, ClusterId);
    }

    public string ClusterId { get; }

    public ClusterDatabase Database { get; }

    public BankApi Api { get; private set; } = null!;

    public ChildProcess ApiProcess { get; private set; } = null!;

    public IReadOnlyList<SiloProcess> Silos
    {
        get
        {
            lock (_silos) return _silos.ToList();
        }
    }

    /// <summary>
    /// A fresh database and cluster id; no process yet. <paramref name="environment"/> is added to every
    /// process's environment (silos and the API), after the shared settings, so it may override them.
    /// </summary>
    public static async Task<ProcessCluster> CreateAsync(string name, ITestOutputHelper output, CancellationToken ct,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var server = await PostgresServer.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync(name, ct);
        var cluster = new ProcessCluster(output, name, connectionString, environment);
        cluster.Log($"database ready, cluster id {cluster.ClusterId}" +
                    (cluster._extraEnvironment.Count == 0 ? "" : $"; settings {string.Join(", ", cluster._extraEnvironment.Select(kv => $"{kv.Key}={kv.Value}"))}"));
        return cluster;
    }

    /// <summary>Starts <paramref name="silos"/> silos and the API together; returns when the API is ready and lists them all active.</summary>
    public async Task StartAsync(int silos, CancellationToken ct)
    {
        // All at once, as an orchestrator starts them: the client applies the schema too, so it may come up first.
        var starting = Enumerable.Range(1, silos).Select(i => StartSiloAsync($"silo-{i}", port: null, ct)).ToList();
        var api = StartApiAsync(ct);
        await Task.WhenAll(starting);
        await api;
        var expected = starting.Select(s => s.Result.Identity).ToHashSet();
        await WaitForSilosAsync(list => expected.All(id => list.Any(s => s.Address == id && s.Status == "active")),
            "the API to list every silo active", StartTimeout, ct);
        Log($"cluster up: {BankApi.Describe(await Api.SilosAsync(ct))}");
    }

    /// <summary>
    /// Starts a silo process and waits until its membership row is Active. With no port, or when the
    /// given one turns out to be taken, it picks a free port.
    /// </summary>
    public async Task<SiloProcess> StartSiloAsync(string name, int? port, CancellationToken ct)
    {
        var dll = ChildProcess.BuiltDll("Silo");
        for (var attempt = 1; ; attempt++)
        {
            var chosen = port ?? FreePort.Next();
            var child = StartChild(name, dll, [], new Dictionary<string, string>(CommonEnvironment())
            {
                ["Cluster__SiloPort"] = chosen.ToString(CultureInfo.InvariantCulture),
                ["Cluster__ListenAddress"] = "127.0.0.1",
                ["Cluster__AdvertisedAddress"] = "127.0.0.1",
                ["Cluster__SiloName"] = name,
            });
            var deadline = DateTime.UtcNow + StartTimeout;
            while (true)
            {
                var row = (await Database.MembershipAsync(ct)).Where(r => r.Port == chosen && r.Status == "Active").MaxBy(r => r.Generation);
                if (row is not null && !child.HasExited)
                {
                    var silo = new SiloProcess(name, chosen, child, row);
                    lock (_silos) _silos.Add(silo);
                    Log($"{silo} active");
                    return silo;
                }
                if (child.HasExited)
                {
                    await child.WaitForExitAsync(TimeSpan.FromSeconds(2));
                    var tail = child.Tail(30);
                    if (attempt < 3 && tail.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                    {
                        Log($"{name}: port {chosen} was taken; trying another");
                        port = null;
                        break;
                    }
                    throw new InvalidOperationException($"{name} (pid {child.Pid}) exited with code {child.ExitCode} before it was active:\n{tail}");
                }
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"{name} (pid {child.Pid}, port {chosen}) was not Active in the membership table within {StartTimeout.TotalSeconds} s.");
                await Task.Delay(100, ct);
            }
        }
    }

    /// <summary>Starts deposit loops against the API (see <see cref="DepositLoad"/>); Dispose stops any still running.</summary>
    public DepositLoad StartLoad(DepositLedger ledger, IReadOnlyList<Guid> accounts, int loopsPerAccount, TimeSpan pause)
    {
        var load = DepositLoad.Start(Api, ledger, accounts, loopsPerAccount, pause);
        Track(load);
        Log($"load started: {accounts.Count} accounts × {loopsPerAccount} loops");
        return load;
    }

    /// <summary>A load that Dispose cancels and waits for, should the test fail while it runs.</summary>
    public void Track(IClientLoad load)
    {
        lock (_loads) _loads.Add(load);
    }

    /// <summary>Polls GET /cluster/silos until <paramref name="condition"/> holds; returns the list that satisfied it.</summary>
    public async Task<IReadOnlyList<SiloView>> WaitForSilosAsync(Func<IReadOnlyList<SiloView>, bool> condition, string what, TimeSpan bound, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + bound;
        IReadOnlyList<SiloView>? last = null;
        while (true)
        {
            last = await Api.SilosAsync(ct) ?? last;
            if (last is not null && condition(last)) return last;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Waited {bound.TotalSeconds} s for {what}; GET /cluster/silos last showed: {BankApi.Describe(last)}");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>A line of the timeline, stamped with the time since the test began.</summary>
    public void Log(string message)
    {
        var line = $"[{_clock.Elapsed.TotalSeconds,7:0.000}s] {message}";
        lock (_timeline) _timeline.Add(line);
    }

    /// <summary>The timeline, then the tail of every process's log.</summary>
    public string Report(bool withLogs)
    {
        var text = new StringBuilder();
        text.AppendLine($"=== timeline of cluster {ClusterId} ===");
        lock (_timeline) foreach (var line in _timeline) text.AppendLine(line);
        if (!withLogs) return text.ToString();
        lock (_children)
        {
            foreach (var child in _children)
            {
                var state = child.HasExited ? $"exited with code {child.ExitCode}" : child.IsPaused ? "paused" : "running";
                text.AppendLine($"=== {child.Name} (pid {child.Pid}, {state}), last {LogTailLines} lines of {child.LogPath} ===");
                text.AppendLine(child.Tail(LogTailLines));
            }
        }
        return text.ToString();
    }

    /// <summary>Runs a test body against this cluster; on failure prints the timeline and every log tail, and keeps the log files.</summary>
    public async Task RunAsync(Func<Task> body)
    {
        try
        {
            await body();
            Log("test passed");
            // BANKGRAINS_KEEP_CLUSTER_LOGS=1 keeps the process logs of passing tests too, for a look at what happened.
            _keepLogs = Environment.GetEnvironmentVariable("BANKGRAINS_KEEP_CLUSTER_LOGS") == "1";
            if (_keepLogs) Log($"process logs kept in {_logs.Path}");
            _output.WriteLine(Report(withLogs: false));
        }
        catch (Exception e)
        {
            Log($"test FAILED: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            _keepLogs = true;
            _output.WriteLine(Report(withLogs: true));
            _output.WriteLine($"(process logs kept in {_logs.Path})");
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // A failed test may leave its load running: no new deposits, and those in flight end when the API goes.
        List<IClientLoad> loads;
        lock (_loads) loads = _loads.ToList();
        foreach (var load in loads) load.Cancel();
        List<ChildProcess> children;
        lock (_children) children = _children.ToList();
        // The API first, so it stops calling silos that are going away; then every silo at once.
        await Task.WhenAll(children.OrderBy(c => c == ApiProcess ? 0 : 1).Select(c => Task.Run(c.Dispose)));
        try
        {
            await Task.WhenAll(loads.Select(l => l.StopAsync())).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception e)
        {
            _output.WriteLine($"client loads did not stop cleanly: {e.Message}");
        }
        Api?.Client.Dispose();
        if (!_keepLogs) _logs.Dispose();
    }

    private async Task StartApiAsync(CancellationToken ct)
    {
        var dll = ChildProcess.BuiltDll("Api");
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort.Next();
            var url = $"http://127.0.0.1:{port}";
            var child = StartChild("api", dll, ["--urls", url], new Dictionary<string, string>(CommonEnvironment())
            {
                ["Cluster__Role"] = "client",
            });
            var client = new HttpClient { BaseAddress = new Uri(url), Timeout = ResponseTimeout * 2 };
            var api = new BankApi(client);
            var deadline = DateTime.UtcNow + StartTimeout;
            while (!child.HasExited && !await api.IsReadyAsync(ct))
            {
                if (DateTime.UtcNow > deadline)
                {
                    client.Dispose();
                    throw new TimeoutException($"The API (pid {child.Pid}) was not ready at {url}/health/ready within {StartTimeout.TotalSeconds} s.");
                }
                await Task.Delay(100, ct);
            }
            if (!child.HasExited)
            {
                Api = api;
                ApiProcess = child;
                Log($"api ready at {url} (pid {child.Pid})");
                return;
            }
            client.Dispose();
            await child.WaitForExitAsync(TimeSpan.FromSeconds(2));
            var tail = child.Tail(30);
            if (attempt >= 3 || !tail.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"The API (pid {child.Pid}) exited with code {child.ExitCode} before it was ready:\n{tail}");
            Log($"api: port {port} was taken; trying another");
        }
    }

    private ChildProcess StartChild(string name, string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var n = Interlocked.Increment(ref _processCounter);
        var child = ChildProcess.Start(name, dll, args, environment, _logs.Combine($"{n:00}-{name}.log"));
        lock (_children) _children.Add(child);
        Log($"started {name} (pid {child.Pid})");
        return child;
    }

    /// <summary>Settings every process of the cluster shares: the database, the cluster id, fast failure detection, quiet logs; then the test's own.</summary>
    private Dictionary<string, string> CommonEnvironment()
    {
        var environment = SharedEnvironment();
        foreach (var (key, value) in _extraEnvironment) environment[key] = value;
        return environment;
    }

    private Dictionary<string, string> SharedEnvironment() => new()
    {
        ["ConnectionStrings__Postgres"] = Database.ConnectionString,
        ["Cluster__Id"] = ClusterId,
        ["Cluster__Membership__ProbePeriod"] = "00:00:00.500",
        ["Cluster__Membership__MissedProbesLimit"] = "3",
        ["Cluster__Membership__RefreshPeriod"] = "00:00:00.250",
        ["Cluster__Membership__IAmAlivePeriod"] = "00:00:01",
        ["Runtime__Messaging__ResponseTimeout"] = ResponseTimeout.ToString("c", CultureInfo.InvariantCulture),
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        // Joins, views adopted, deaths declared: a few lines per membership change, the story of a failure.
        ["Logging__LogLevel__BankGrains.Runtime.Cluster"] = "Information",
        ["Logging__LogLevel__BankGrains"] = "Warning",
        ["Logging__Console__FormatterName"] = "simple",
        ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
        ["Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true",
    };
}
