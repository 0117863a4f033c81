using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BankGrains.Api.Health;

/// <summary>/health (every check), /health/ready (what must work to serve traffic) and /health/live (the process answers).</summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    /// <param name="clusterClient">A client hosts no silo and no storage: it is ready when it can see an active silo.</param>
    public static IServiceCollection AddBankGrainsHealthChecks(this IServiceCollection services, bool clusterClient = false)
    {
        var checks = services.AddHealthChecks();
        if (clusterClient)
        {
            checks.AddCheck<ClusterHealthCheck>("cluster", HealthStatus.Unhealthy, [ReadyTag]);
            return services;
        }
        checks.AddCheck<SiloHealthCheck>("silo", HealthStatus.Unhealthy, [ReadyTag])
            .AddCheck<StorageHealthCheck>("storage", HealthStatus.Unhealthy, [ReadyTag], timeout: TimeSpan.FromSeconds(5));
        return services;
    }

    public static IEndpointRouteBuilder MapBankGrainsHealthChecks(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteJsonAsync });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteJsonAsync });
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteJsonAsync });
        return app;
    }

    /// <summary>{"status":"Healthy","totalDurationMs":1.2,"checks":{"silo":{"status":"Healthy","description":"…","durationMs":0.1}}}</summary>
    private static async Task WriteJsonAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = false });
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteNumber("totalDurationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 2));
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            if (entry.Description is not null) json.WriteString("description", entry.Description);
            json.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 2));
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }
}
