using System.Text.Json;
using System.Text.Json.Serialization;

namespace BankGrains.Runtime.Serialization;

/// <summary>
/// The one JSON shape used for grain state, call arguments and results. Types carry their own
/// converters ([JsonConverter] on the type), so every host serialises them identically.
/// </summary>
public static class GrainJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            // Private setters and get-only records round-trip; state must never silently lose a field.
            IncludeFields = false,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
            // PostgreSQL's jsonb reorders object keys (shortest first), so "$type" of polymorphic
            // state may not come first when read back.
            AllowOutOfOrderMetadataProperties = true,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    public static byte[] Serialize(object? value, Type type) => JsonSerializer.SerializeToUtf8Bytes(value, type, Options);

    public static object? Deserialize(ReadOnlySpan<byte> utf8, Type type) => JsonSerializer.Deserialize(utf8, type, Options);

    public static T? Deserialize<T>(ReadOnlySpan<byte> utf8) => JsonSerializer.Deserialize<T>(utf8, Options);
}
