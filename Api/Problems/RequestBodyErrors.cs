using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using BankGrains.Api.Contracts;
using BankGrains.Grains.Interfaces;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;

namespace BankGrains.Api.Problems;

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
        var requestType = endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
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
        JsonPropertyInfo? property = null;
        foreach (var segment in segments)
        {
            var info = options.GetTypeInfo(type);
            property = info.Properties.FirstOrDefault(p => string.Equals(p.Name, segment, StringComparison.OrdinalIgnoreCase));
            if (property is null) return null;
            type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        }

        if (type == typeof(string))
        {
            var example = property?.AttributeProvider?.GetCustomAttributes(typeof(JsonStringExampleAttribute), inherit: false)
                .OfType<JsonStringExampleAttribute>().FirstOrDefault();
            return example is null ? "a JSON string" : $"a string like \"{example.Example}\"{example.Note}";
        }
        if (type.IsPrimitive || type == typeof(decimal)) return "a JSON number";
        var objectExample = type.GetCustomAttributes(typeof(JsonObjectExampleAttribute), inherit: false)
            .OfType<JsonObjectExampleAttribute>().FirstOrDefault();
        return objectExample is null ? "a JSON object" : $"a JSON object like {objectExample.Example}";
    }
}
