using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;

namespace BankGrains.Api.Idempotency;

/// <summary>
/// What an Idempotency-Key is bound to: SHA-256 (lower-case hex) of the method, the path and the canonical body.
/// The canonical body is the bound request re-serialised, so whitespace, member order and unknown members do
/// not make a retry look like another request, while any field the bank reads does. The path scopes the key:
/// the same key sent to another URL is a different request, refused as a mismatch.
/// </summary>
internal static class RequestFingerprint
{
    public static string Compute(EndpointFilterInvocationContext context, JsonSerializerOptions json)
    {
        var http = context.HttpContext;
        var requestType = http.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
        var body = requestType is null
            ? []
            : JsonSerializer.SerializeToUtf8Bytes(context.Arguments.FirstOrDefault(requestType.IsInstanceOfType), requestType, json);

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // Routes match paths case-insensitively (GUIDs in either case name the same account).
        sha.AppendData(Encoding.UTF8.GetBytes($"{http.Request.Method}\n{http.Request.Path.Value?.ToLowerInvariant()}\n"));
        sha.AppendData(body);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
