using BankGrains.Runtime.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BankGrains.Api.Health;

/// <summary>Healthy while the co-hosted silo is running: started (storage ready) and not stopping.</summary>
internal sealed class SiloHealthCheck(SiloLifecycle silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(silo.IsRunning
            ? HealthCheckResult.Healthy("The silo is running.")
            : new HealthCheckResult(context.Registration.FailureStatus, "The silo is not running (starting or stopping)."));
}
