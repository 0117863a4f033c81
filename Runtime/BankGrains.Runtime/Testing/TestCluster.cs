using BankGrains.Runtime.Hosting;
using BankGrains.Runtime.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BankGrains.Runtime.Testing;

/// <summary>
/// An in-process cluster for tests (Orleans: TestCluster). Silos share one in-memory grain storage
/// and reminder table unless configured otherwise, so state and reminders outlive a silo restart.
/// Start, stop (graceful), kill (crash: no grain code runs) and restart silos while calls flow.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly TestClusterOptions _options;
    private readonly List<TestSilo> _silos = new();
    private int _nextSiloNumber;

    private TestCluster(TestClusterOptions options) => _options = options;

    public static async Task<TestCluster> StartAsync(Action<TestClusterOptions>? configure = null)
    {
        var options = new TestClusterOptions();
        configure?.Invoke(options);
        if (options.InitialSilosCount < 1) throw new ArgumentOutOfRangeException(nameof(configure), "A test cluster needs at least one silo.");
        if (options.InitialSilosCount > 1) options.IsCluster = true;
        var cluster = new TestCluster(options);
        for (var i = 0; i < options.InitialSilosCount; i++) await cluster.StartSiloAsync();
        if (options.IsCluster) await cluster.WaitForViewAsync(options.InitialSilosCount, TimeSpan.FromSeconds(30));
        return cluster;
    }

    public MemoryGrainStorage Storage => _options.Storage;
    public MemoryReminderTable Reminders => _options.ReminderTable;
    public Transactions.MemoryTransactionStore TransactionStore => _options.TransactionStore;

    public IReadOnlyList<TestSilo> Silos => _silos.Where(s => s.IsRunning).ToList();

    /// <summary>A grain factory of the first running silo (in a cluster, calls are routed to each grain's owner).</summary>
    public IGrainFactory GrainFactory => Silos.FirstOrDefault()?.GrainFactory
        ?? throw new InvalidOperationException("No silo is running.");

    public async Task<TestSilo> StartSiloAsync()
    {
        var number = _nextSiloNumber++;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = Environments.Development,
        });
        if (_options.IsCluster) builder.Configuration.AddInMemoryCollection(ClusterDefaults);
        builder.Configuration.AddInMemoryCollection(_options.Configuration);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddBankGrainsSilo(silo =>
        {
            silo.UseInMemoryStorage(_options.Storage, _options.ReminderTable, _options.TransactionStore);
            if (_options.IsCluster) silo.UseCluster(_ => _options.MembershipTable);
            _options.ConfigureSilo?.Invoke(silo);
        });
        _options.ConfigureServices?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        var silo = new TestSilo(number, host);
        _silos.Add(silo);
        return silo;
    }

    // Loopback only, an OS-chosen port per silo, and failure detection fast enough for tests:
    // a dead silo is declared dead after about 3 × 0.3 s.
    private static readonly Dictionary<string, string?> ClusterDefaults = new()
    {
        ["Cluster:SiloPort"] = "0",
        ["Cluster:ListenAddress"] = "127.0.0.1",
        ["Cluster:AdvertisedAddress"] = "127.0.0.1",
        ["Cluster:Membership:RefreshPeriod"] = "00:00:00.200",
        ["Cluster:Membership:ProbePeriod"] = "00:00:00.300",
        ["Cluster:Membership:IAmAlivePeriod"] = "00:00:01",
        ["Cluster:Membership:MissedProbesLimit"] = "3",
        // A silo declared dead stops its own host, not the test process.
        ["Cluster:ExitCodeWhenDeclaredDead"] = "0",
    };

    /// <summary>The shared membership table as it is now.</summary>
    public Task<Membership.MembershipSnapshot> MembershipTableSnapshotAsync() => _options.MembershipTable.ReadAllAsync();

    public Membership.IMembershipTable MembershipTable => _options.MembershipTable;

    /// <summary>Waits until every silo's view has <paramref name="activeSilos"/> active silos.</summary>
    public async Task WaitForViewAsync(int activeSilos, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var views = Silos.Select(s => s.Services.GetRequiredService<Cluster.IClusterViewSource>().Current).ToList();
            if (views.All(v => v.Active.Count == activeSilos) && views.Select(v => v.Version).Distinct().Count() == 1) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Silos did not agree on a view of {activeSilos} active silos: {string.Join("; ", views)}");
            await Task.Delay(50);
        }
    }

    /// <summary>Graceful stop: activations finish and deactivate.</summary>
    public async Task StopSiloAsync(TestSilo silo)
    {
        await silo.StopAsync();
        _silos.Remove(silo);
    }

    /// <summary>Crash: in-flight calls are lost, no OnDeactivateAsync runs, nothing is flushed.</summary>
    public void KillSilo(TestSilo silo)
    {
        silo.Kill();
        _silos.Remove(silo);
    }

    /// <summary>Kills the silo and starts a fresh one in its place, on the same storage (a new generation in a cluster).</summary>
    public async Task<TestSilo> RestartSiloAsync(TestSilo silo)
    {
        KillSilo(silo);
        return await StartSiloAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _silos.ToList()) await silo.StopAsync();
        _silos.Clear();
    }
}

public sealed class TestClusterOptions
{
    public int InitialSilosCount { get; set; } = 1;

    /// <summary>Configuration keys given to every silo, e.g. "Runtime:Messaging:ResponseTimeout".</summary>
    public Dictionary<string, string?> Configuration { get; } = new();

    public Action<SiloBuilder>? ConfigureSilo { get; set; }
    public Action<IServiceCollection>? ConfigureServices { get; set; }
    public MemoryGrainStorage Storage { get; set; } = new();
    public MemoryReminderTable ReminderTable { get; set; } = new();

    /// <summary>Transactions, ledger and idempotency keys of every silo; by default over <see cref="Storage"/> (made on first use, so a replaced Storage is honoured).</summary>
    public Transactions.MemoryTransactionStore TransactionStore
    {
        get => _transactionStore ??= new Transactions.MemoryTransactionStore(Storage);
        set => _transactionStore = value;
    }

    private Transactions.MemoryTransactionStore? _transactionStore;

    /// <summary>Silos join a cluster (membership, placement, messaging over loopback TCP); set when more than one silo starts.</summary>
    public bool IsCluster { get; set; }

    public Membership.IMembershipTable MembershipTable { get; set; } = new Membership.InMemoryMembershipTable("test");
}

/// <summary>One silo of a <see cref="TestCluster"/>.</summary>
public sealed class TestSilo(int number, IHost host)
{
    public int Number { get; } = number;
    public IServiceProvider Services => host.Services;
    public IGrainFactory GrainFactory => host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>This silo's cluster identity (cluster mode only).</summary>
    public Membership.SiloAddress Address => host.Services.GetRequiredService<Cluster.LocalSilo>().Address;

    /// <summary>Activations in this silo now.</summary>
    public int ActivationCount => host.Services.GetRequiredService<Core.Catalog>().ActivationCount;
    public bool IsRunning { get; private set; } = true;

    /// <summary>The cluster address this silo had, kept after it stopped.</summary>
    public Membership.SiloAddress AddressAtStop { get; private set; }

    internal async Task StopAsync()
    {
        if (!IsRunning) return;
        IsRunning = false;
        if (host.Services.GetService<Cluster.LocalSilo>() is { IsBound: true } self) AddressAtStop = self.Address;
        await host.StopAsync();
        host.Dispose();
    }

    internal void Kill()
    {
        if (!IsRunning) return;
        IsRunning = false;
        host.Services.GetRequiredService<SiloLifecycle>().Kill();
        host.Dispose();
    }
}
