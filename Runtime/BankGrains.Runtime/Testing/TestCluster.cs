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
        if (options.InitialSilosCount != 1)
            throw new NotSupportedException("This runtime hosts one silo per cluster until cluster membership is added.");
        var cluster = new TestCluster(options);
        for (var i = 0; i < options.InitialSilosCount; i++) await cluster.StartSiloAsync();
        return cluster;
    }

    public MemoryGrainStorage Storage => _options.Storage;
    public MemoryReminderTable Reminders => _options.ReminderTable;

    public IReadOnlyList<TestSilo> Silos => _silos.Where(s => s.IsRunning).ToList();

    /// <summary>A grain factory of the first running silo.</summary>
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
        builder.Configuration.AddInMemoryCollection(_options.Configuration);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddBankGrainsSilo(silo =>
        {
            silo.UseInMemoryStorage(_options.Storage, _options.ReminderTable);
            _options.ConfigureSilo?.Invoke(silo);
        });
        _options.ConfigureServices?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        var silo = new TestSilo(number, host);
        _silos.Add(silo);
        return silo;
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

    /// <summary>Kills the silo and starts a fresh one in its place, on the same storage.</summary>
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
}

/// <summary>One silo of a <see cref="TestCluster"/>.</summary>
public sealed class TestSilo(int number, IHost host)
{
    public int Number { get; } = number;
    public IServiceProvider Services => host.Services;
    public IGrainFactory GrainFactory => host.Services.GetRequiredService<IGrainFactory>();
    public bool IsRunning { get; private set; } = true;

    internal async Task StopAsync()
    {
        if (!IsRunning) return;
        IsRunning = false;
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
