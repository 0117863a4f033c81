using System.Text.Json;
using System.Text.Json.Serialization;
using BankGrains.Api.Endpoints;
using BankGrains.Api.Health;
using BankGrains.Api.Ledger;
using BankGrains.Api.OpenApi;
using BankGrains.Api.Problems;
using BankGrains.Runtime.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace BankGrains.Api.Hosting;

/// <summary>Everything the REST API adds to the host: JSON, problem details, OpenAPI, health, endpoints.</summary>
public static class ApiSetup
{
    public const string SwaggerPath = "/swagger";

    public static IServiceCollection AddBankGrainsApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.ConfigureHttpJsonOptions(options =>
        {
            // Web defaults already give camelCase names and case-insensitive property matching.
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        });

        // Binding failures (malformed JSON, wrong JSON types, missing bodies) throw, in every environment,
        // so that ApiExceptionHandler answers them with a problem instead of an empty 400.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context => ProblemFactory.Complete(context.HttpContext, context.ProblemDetails));
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>(); // after the framework's writer: the fallback
        services.AddExceptionHandler<ApiExceptionHandler>();

        services.AddSingleton<TransferLookup>();
        services.AddSingleton<LedgerAudit>();

        services.AddBankGrainsOpenApi();
        var cluster = configuration.GetSection(ClusterOptions.Section).Get<ClusterOptions>() ?? new ClusterOptions();
        services.AddBankGrainsHealthChecks(cluster.IsClient);
        return services;
    }

    /// <summary>The middleware: problems for exceptions and for bare error status codes (unknown routes), then Swagger UI.</summary>
    public static WebApplication UseBankGrainsApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseSwaggerUI(options =>
        {
            options.RoutePrefix = SwaggerPath.TrimStart('/');
            options.SwaggerEndpoint(OpenApiSetup.DocumentPath, "BankGrains API v1");
            options.DocumentTitle = "BankGrains API";
        });
        app.Lifetime.ApplicationStarted.Register(() => LogWhereThingsAre(app));
        return app;
    }

    public static WebApplication MapBankGrainsApi(this WebApplication app)
    {
        app.MapOpenApi(OpenApiSetup.DocumentPath.Replace("v1", "{documentName}"));
        app.MapBankGrainsHealthChecks();
        app.MapCustomerEndpoints();
        app.MapAccountEndpoints();
        app.MapTransferEndpoints();
        app.MapLedgerEndpoints();
        app.MapProblemEndpoints();
        app.MapClusterEndpoints();
        return app;
    }

    private static void LogWhereThingsAre(WebApplication app)
    {
        var addresses = app.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        var baseUrl = addresses?.FirstOrDefault()?.TrimEnd('/') ?? "";
        app.Logger.LogInformation("Swagger UI at {SwaggerUrl}, OpenAPI at {OpenApiUrl}, health at {HealthUrl} (also /health/live, /health/ready)",
            baseUrl + SwaggerPath, baseUrl + OpenApiSetup.DocumentPath, baseUrl + "/health");
    }
}
