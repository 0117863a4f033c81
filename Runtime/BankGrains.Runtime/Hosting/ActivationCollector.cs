using BankGrains.Runtime.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BankGrains.Runtime.Hosting;

/// <summary>Every collection quantum, deactivates activations idle longer than their age limit.</summary>
public sealed class ActivationCollector(Catalog catalog, IOptions<GrainCollectionOptions> options, TimeProvider time, ILogger<ActivationCollector> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CollectionQuantum, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var collected = catalog.CollectExpired(options.Value.CollectionAge);
                if (collected > 0) logger.LogDebug("Collecting {Count} idle activations", collected);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
