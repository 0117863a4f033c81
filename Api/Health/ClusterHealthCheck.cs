using BankGrains.Runtime.Cluster;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BankGrains.Api.Health;

/// <summary>A cluster client is healthy while its membership view has at least one active silo to call.</summary>
internal sealed class ClusterHealthCheck(IClusterViewSource views) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var view = views.Current;
        return Task.FromResult(view.Active.Count > 0
            ? HealthCheckResult.Healthy($"{view.Active.Count} active silo(s) in membership view {view.Version}.")
            : new HealthCheckResult(context.Registration.FailureStatus, $"No active silo in membership view {view.Version}."));
    }
}
