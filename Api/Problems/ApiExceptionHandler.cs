using System.Text.Json;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Persistence;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace BankGrains.Api.Problems;

/// <summary>
/// Turns every exception that escapes an endpoint into an RFC 9457 problem: banking rules into 4xx with
/// their <see cref="BankErrorCode"/>, runtime outcomes (timeouts, version conflicts) into 504/409/503, and
/// anything unexpected into a 500 that says nothing about the server's internals.
/// </summary>
internal sealed class ApiExceptionHandler(
    IProblemDetailsService problemDetails,
    IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
    ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var problem = Describe(context, exception);
        context.Response.StatusCode = problem.Status!.Value;

        var written = await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
        if (!written)
        {
            // The client's Accept header ruled out JSON; problem+json is still the only form errors have.
            await context.Response.WriteAsJsonAsync(problem, json.Value.SerializerOptions, Problems.ContentType, cancellationToken);
        }
        return true;
    }

    private ProblemDetails Describe(HttpContext context, Exception exception)
    {
        switch (exception)
        {
            case BankException bank:
                logger.LogDebug("{Method} {Path} refused: {Code}: {Message}", context.Request.Method, context.Request.Path, bank.Code, bank.Message);
                return Problems.Create(context, ProblemTypes.For(bank.Code), bank.Message);

            case BadHttpRequestException badRequest:
            {
                var (type, status, detail) = RequestBodyErrors.Describe(context, badRequest, json.Value.SerializerOptions);
                logger.LogDebug("{Method} {Path} rejected ({Status}): {Detail}", context.Request.Method, context.Request.Path, status, detail);
                return Problems.Create(context, type, detail, status);
            }

            case GrainCallTimeoutException timeout:
                logger.LogWarning(timeout, "{Method} {Path} timed out waiting for a grain; the outcome is unknown", context.Request.Method, context.Request.Path);
                return Problems.Create(context, ProblemTypes.Timeout,
                    "The bank did not answer in time, so the outcome is unknown: the operation may or may not have been applied. " +
                    "Read the resource's current state before retrying; retry is safe only with the same request after checking it.");

            case InconsistentStateException conflict:
                logger.LogWarning(conflict, "{Method} {Path} lost a state version race", context.Request.Method, context.Request.Path);
                return Problems.Create(context, ProblemTypes.ConcurrencyConflict,
                    "The resource was changed by another request at the same moment, so this request was not applied. Read it again and retry.");

            case SiloUnavailableException unavailable:
                logger.LogWarning(unavailable, "{Method} {Path} failed: the silo stopped during the call", context.Request.Method, context.Request.Path);
                return Problems.Create(context, ProblemTypes.Unavailable,
                    "The service stopped while handling the request, so the outcome is unknown. Read the resource's current state before retrying the same request.");

            default:
                logger.LogError(exception, "{Method} {Path} failed unexpectedly", context.Request.Method, context.Request.Path);
                return Problems.Create(context, ProblemTypes.Internal,
                    "The server failed unexpectedly. The error has been logged; quote this response's traceId when you report it.");
        }
    }
}

/// <summary>Describes why the framework could not bind a request body, in words about the request rather than about .NET.</summary>
internal static class RequestBodyErrors
{
    public static (ProblemType Type, int Status, string Detail) Describe(HttpContext context, BadHttpRequestException exception, JsonSerializerOptions options)
    {
        var validation = ProblemTypes.For(BankErrorCode.Validation);
        return exception.StatusCode switch
        {
            StatusCodes.Status415UnsupportedMediaType =>
                (ProblemTypes.UnsupportedMediaType, StatusCodes.Status415UnsupportedMediaType, "Send the request body as JSON with Content-Type: application/json."),
            StatusCodes.Status413PayloadTooLarge =>
                (ProblemTypes.RequestRejected, StatusCodes.Status413PayloadTooLarge, "The request body is too large."),
            StatusCodes.Status400BadRequest when exception.InnerException is JsonException json =>
                (validation, StatusCodes.Status400BadRequest, DescribeJson(context, json, options)),
            StatusCodes.Status400BadRequest =>
                (validation, StatusCodes.Status400BadRequest, "The request body is missing or unreadable: send a JSON object with Content-Type: application/json."),
            _ => (ProblemTypes.RequestRejected, exception.StatusCode, "The request was rejected."),
        };
    }

    private static string DescribeJson(HttpContext context, JsonException exception, JsonSerializerOptions options)
    {
        // A JsonException wrapping another one comes from the reader: the text is not JSON at all.
        if (exception.InnerException is JsonException || exception.Path is null)
        {
            var where = exception.LineNumber is { } line && exception.BytePositionInLine is { } position
                ? $" (line {line + 1}, position {position + 1})"
                : "";
            return $"The request body is not valid JSON{where}.";
        }

        // Otherwise the JSON is well formed but a value has the wrong JSON type for its field.
        // The exception handler middleware clears the endpoint before handlers run; its feature keeps it.
        var endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
        var requestType = endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType;
        var field = FieldName(exception.Path);
        if (field.Length == 0) return "The request body must be a JSON object.";
        var expectation = requestType is null ? null : Expectation(requestType, exception.Path, options);
        return expectation is null ? $"{field} has the wrong JSON type." : $"{field} must be {expectation}.";
    }

    // "$.amount.amount" → "amount.amount"; "$['amount']" → "amount".
    private static string FieldName(string path)
    {
        var name = path.StartsWith('$') ? path[1..] : path;
        name = name.Replace("['", ".").Replace("']", "");
        return name.TrimStart('.');
    }

    /// <summary>What the request contract expects at <paramref name="path"/>, found by walking its JSON contract.</summary>
    private static string? Expectation(Type requestType, string path, JsonSerializerOptions options)
    {
        var segments = FieldName(path).Split('.', StringSplitOptions.RemoveEmptyEntries);
        var type = requestType;
        System.Text.Json.Serialization.Metadata.JsonPropertyInfo? property = null;
        foreach (var segment in segments)
        {
            var info = options.GetTypeInfo(type);
            property = info.Properties.FirstOrDefault(p => string.Equals(p.Name, segment, StringComparison.OrdinalIgnoreCase));
            if (property is null) return null;
            type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        }

        if (type == typeof(string))
        {
            var example = property?.AttributeProvider?.GetCustomAttributes(typeof(Contracts.JsonStringExampleAttribute), inherit: false)
                .OfType<Contracts.JsonStringExampleAttribute>().FirstOrDefault();
            return example is null ? "a JSON string" : $"a string like \"{example.Example}\"{example.Note}";
        }
        if (type.IsPrimitive || type == typeof(decimal)) return "a JSON number";
        var example2 = type.GetCustomAttributes(typeof(Contracts.JsonObjectExampleAttribute), inherit: false)
            .OfType<Contracts.JsonObjectExampleAttribute>().FirstOrDefault();
        return example2 is null ? "a JSON object" : $"a JSON object like {example2.Example}";
    }
}
