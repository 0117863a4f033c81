using System.Text.Json;
using System.Text.Json.Serialization;

namespace BankGrains.Runtime.Membership;

/// <summary>
/// A <see cref="SiloAddress"/> as its text form ("127.0.0.1:11111@123456"), also as a dictionary key,
/// so the dashboard, logs and stored JSON all show the same string.
/// </summary>
public sealed class SiloAddressJsonConverter : JsonConverter<SiloAddress>
{
    public override SiloAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw new JsonException($"A silo address is a JSON string, not {reader.TokenType}.");
        return FromText(reader.GetString());
    }

    public override void Write(Utf8JsonWriter writer, SiloAddress value, JsonSerializerOptions options)
        => writer.WriteStringValue(ToText(value));

    public override SiloAddress ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => FromText(reader.GetString());

    public override void WriteAsPropertyName(Utf8JsonWriter writer, SiloAddress value, JsonSerializerOptions options)
        => writer.WritePropertyName(ToText(value));

    private static SiloAddress FromText(string? text)
        => SiloAddress.TryParse(text, out var address)
            ? address
            : throw new JsonException($"'{text}' is not a silo address (expected ip:port@generation).");

    // Writing default(SiloAddress) would produce text nobody can read back; fail where the bug is.
    private static string ToText(SiloAddress value)
        => value.IsDefault ? throw new JsonException("default(SiloAddress) cannot be serialised.") : value.ToString();
}
