using System.Text.Json;
using System.Text.Json.Serialization;

namespace BankGrains.Grains.Interfaces;

/// <summary>
/// Writes a <see cref="Currency"/> as its ISO code string ("USD") and reads it back, also as a dictionary key.
/// Anything that is not a supported upper-case code is a <see cref="JsonException"/> whose inner exception is
/// the <see cref="BankException"/> (<see cref="BankErrorCode.UnknownCurrency"/>) from <see cref="Currency.Parse"/>.
/// </summary>
public sealed class CurrencyJsonConverter : JsonConverter<Currency>
{
    public override Currency Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException(
                $"A currency travels as a JSON string holding its ISO 4217 code, such as \"USD\"; got {Describe(reader.TokenType)}.");
        }

        return ParseOrThrowJson(reader.GetString());
    }

    public override void Write(Utf8JsonWriter writer, Currency value, JsonSerializerOptions options) =>
        writer.WriteStringValue(CodeOf(value));

    public override Currency ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ParseOrThrowJson(reader.GetString());

    public override void WriteAsPropertyName(Utf8JsonWriter writer, Currency value, JsonSerializerOptions options) =>
        writer.WritePropertyName(CodeOf(value));

    internal static Currency ParseOrThrowJson(string? code)
    {
        try
        {
            return Currency.Parse(code);
        }
        catch (BankException e)
        {
            throw new JsonException(e.Message, e);
        }
    }

    internal static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.Number => "a JSON number",
        JsonTokenType.Null => "null",
        JsonTokenType.True or JsonTokenType.False => "a JSON boolean",
        JsonTokenType.StartObject => "a JSON object",
        JsonTokenType.StartArray => "a JSON array",
        JsonTokenType.String => "a JSON string",
        _ => token.ToString(),
    };

    private static string CodeOf(Currency value) =>
        value.IsDefault
            ? throw new JsonException("default(Currency) is not a currency and cannot be serialised.")
            : value.Code;
}
