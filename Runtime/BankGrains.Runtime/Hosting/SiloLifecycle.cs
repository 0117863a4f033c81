using BankGrains.Runtime.Cluster;
using BankGrains.Runtime.Core;
using BankGrains.Runtime.Reminders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BankGrains.Runtime.Hosting;

/// <summary>
/// Starts the silo after its storage is ready (schema applied), and stops it gracefully: reminders
/// stop, every activation finishes its work and deactivates, then the process may exit.
/// </summary>
public sealed class SiloLifecycle(
    IEnumerable<IStorageInitializer> initializers,
    ReminderService reminders,
    Catalog catalog,
    IOptions<GrainCollectionOptions> collection,
    ILogger<SiloLifecycle> logger,
    ClusterParticipation? cluster = null) : IHostedService
{
    public bool IsRunning { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var initializer in initializers) await initializer.InitializeAsync(cancellationToken);
        if (cluster is not null) await cluster.StartAsync(cancellationToken);
        await reminders.StartAsync(cancellationToken);
        IsRunning = true;
        logger.LogInformation("Silo started");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        IsRunning = false;
        await reminders.StopAsync();
        // In a cluster, leaving hands every activation to its next owner before the process goes.
        if (cluster is not null) await cluster.StopAsync(cancellationToken);
        try
        {
            await catalog.DeactivateAllAsync(collection.Value.DeactivationTimeout);
        }
        catch (TimeoutException)
        {
            logger.LogWarning("Some activations did not deactivate within {Timeout}; stopping anyway", collection.Value.DeactivationTimeout);
            catalog.KillAll();
        }
        logger.LogInformation("Silo stopped");
    }

    /// <summary>A crash: nothing graceful runs.</summary>
    public void Kill()
    {
        IsRunning = false;
        cluster?.Kill();
        reminders.Dispose();
        catalog.KillAll();
    }
}

/// <summary>Prepares a storage backend (schema scripts) before the silo starts.</summary>
public interface IStorageInitializer
{
    Task InitializeAsync(CancellationToken cancellationToken);
}
