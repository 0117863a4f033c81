using BankGrains.Runtime.Cluster;

namespace BankGrains.Api.Endpoints;

/// <summary>The management view for operators and the dashboard.</summary>
public static class ClusterEndpoints
{
    public static IEndpointRouteBuilder MapClusterEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/cluster/silos", async (IClusterManagement management, CancellationToken cancellationToken) =>
                TypedResults.Ok(await management.GetSilosAsync(cancellationToken)))
            .WithName("ListSilos")
            .WithTags("Cluster")
            .WithSummary("The silos of the cluster")
            .WithDescription("Every silo in the membership table: address (host:port@generation), status (joining, active, shuttingDown, dead), " +
                             "start time, last heartbeat, and activations per grain type for silos that answer.");
        return app;
    }
}
