using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace BankGrains.Api.Problems;

/// <summary>Builds and completes the problem+json bodies of every error response.</summary>
public static class ProblemFactory
{
    public const string ContentType = "application/problem+json";
    public const string CodeExtension = "code";
    public const string TraceIdExtension = "traceId";

    /// <summary>A complete problem for <paramref name="type"/>; <paramref name="status"/> overrides the type's usual status.</summary>
    public static ProblemDetails Create(HttpContext context, ProblemType type, string detail, int? status = null)
    {
        var problem = new ProblemDetails
        {
            Type = type.Type,
            Title = type.Title,
            Status = status ?? type.Status,
            Detail = detail,
        };
        problem.Extensions[CodeExtension] = type.Code;
        Complete(context, problem);
        return problem;
    }

    /// <summary>
    /// Fills what a problem written by the framework itself lacks (unknown routes, wrong methods, requests
    /// refused before an endpoint ran): our type, title and code for its status, instance and traceId.
    /// Runs for every problem written through <see cref="IProblemDetailsService"/>.
    /// </summary>
    public static void Complete(HttpContext context, ProblemDetails problem)
    {
        if (!problem.Extensions.ContainsKey(CodeExtension))
        {
            var status = problem.Status ?? context.Response.StatusCode;
            var type = ProblemTypes.ForStatus(status);
            problem.Status = status;
            problem.Type = type.Type;
            problem.Title = type.Title;
            problem.Detail ??= DefaultDetail(context, status);
            problem.Extensions[CodeExtension] = type.Code;
        }

        problem.Instance ??= context.Request.PathBase.Add(context.Request.Path).Value;
        // Always "code" first and "traceId" last, whoever added them (the framework adds its own traceId first).
        var traceId = problem.Extensions.TryGetValue(TraceIdExtension, out var existing) && existing is not null
            ? existing
            : Activity.Current?.Id ?? context.TraceIdentifier;
        var code = problem.Extensions[CodeExtension];
        var others = problem.Extensions.Where(e => e.Key is not CodeExtension and not TraceIdExtension).ToList();
        problem.Extensions.Clear();
        problem.Extensions[CodeExtension] = code;
        foreach (var (key, value) in others) problem.Extensions[key] = value;
        problem.Extensions[TraceIdExtension] = traceId;
    }

    private static string DefaultDetail(HttpContext context, int status) => status switch
    {
        StatusCodes.Status404NotFound => $"There is no resource at {context.Request.Path}. Ids in URLs are GUIDs; see /openapi/v1.json for the routes.",
        StatusCodes.Status405MethodNotAllowed => $"{context.Request.Method} is not supported on {context.Request.Path}.",
        StatusCodes.Status415UnsupportedMediaType => "Send request bodies as JSON with Content-Type: application/json.",
        >= 500 => "The server failed unexpectedly; the error was logged under this response's traceId.",
        _ => "The request was rejected.",
    };
}
