using BankGrains.Runtime;
using BankGrains.Runtime.Persistence;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BankGrains.Api.Health;

/// <summary>
/// Healthy when grain storage answers: one primary-key read of a record that never exists, through the
/// same provider the grains use (SQLite or PostgreSQL). It touches no grain and holds no activation.
/// </summary>
internal sealed class StorageHealthCheck(IGrainStorage storage, ILogger<StorageHealthCheck> logger) : IHealthCheck
{
    private static readonly GrainId ProbeId = new("api-health-probe", "storage");

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await storage.ReadStateAsync("probe", ProbeId, new GrainState<ProbeState>(new ProbeState())).WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy("Grain storage answered.");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The exception text can name hosts and files: it goes to the log, not to the response.
            logger.LogWarning(e, "Grain storage health probe failed");
            return new HealthCheckResult(context.Registration.FailureStatus, $"Grain storage did not answer ({e.GetType().Name}); see the server log.");
        }
    }

    private sealed class ProbeState;
}
