using System.Text.Json.Serialization;

namespace BankGrains.Runtime;

/// <summary>
/// The identity of one grain in the cluster: its grain type (a short stable name such as "account")
/// and its key. Storage, reminders, placement and messages all address a grain by this value.
/// </summary>
[JsonConverter(typeof(GrainIdJsonConverter))]
public readonly record struct GrainId
{
    public GrainId(string type, string key)
    {
        if (string.IsNullOrWhiteSpace(type) || type.Contains('/'))
            throw new ArgumentException("A grain type is a non-empty name without '/'.", nameof(type));
        ArgumentNullException.ThrowIfNull(key);
        Type = type;
        Key = key;
    }

    public string Type { get; }
    public string Key { get; }

    public override string ToString() => $"{Type}/{Key}";

    public static GrainId Parse(string value)
    {
        var slash = value.IndexOf('/');
        if (slash <= 0) throw new FormatException($"'{value}' is not a grain id (expected 'type/key').");
        return new GrainId(value[..slash], value[(slash + 1)..]);
    }
}

internal sealed class GrainIdJsonConverter : JsonConverter<GrainId>
{
    public override GrainId Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
        => GrainId.Parse(reader.GetString() ?? throw new System.Text.Json.JsonException("A grain id cannot be null."));

    public override void Write(System.Text.Json.Utf8JsonWriter writer, GrainId value, System.Text.Json.JsonSerializerOptions options)
        => writer.WriteStringValue(value.ToString());
}
