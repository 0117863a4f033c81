using System.Text.Json;
using System.Text.Json.Serialization;

namespace BankGrains.Grains.Interfaces;

/// <summary>
/// The wire shape of <see cref="Money"/>: <c>{"amount":"100.00","currency":"USD"}</c>.
/// </summary>
/// <remarks>
/// Writing always uses the camelCase names "amount" and "currency" (whatever the naming policy) and writes the
/// amount as a string with exactly the currency's minor-unit decimals. Reading accepts the two properties in any
/// order (names matched exactly, or ignoring case when the options say
/// <see cref="JsonSerializerOptions.PropertyNameCaseInsensitive"/>) and throws <see cref="JsonException"/> for
/// anything else: a JSON number (or any non-string) amount, a missing, null, duplicated or unknown property,
/// or an amount/currency that <see cref="Money.Parse(string?, string?)"/> refuses — in that case the inner
/// exception is that <see cref="BankException"/> (InvalidAmount or UnknownCurrency) and the message is its message.
/// </remarks>
public sealed class MoneyJsonConverter : JsonConverter<Money>
{
    private const string AmountName = "amount";
    private const string CurrencyName = "currency";

    public override Money Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException(
                "Money travels as a JSON object such as {\"amount\":\"100.00\",\"currency\":\"USD\"}; " +
                $"got {CurrencyJsonConverter.Describe(reader.TokenType)}.");
        }

        var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        string? amount = null;
        string? currency = null;

        while (true)
        {
            if (!reader.Read())
            {
                throw new JsonException("Money object is not closed.");
            }

            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            var name = reader.GetString() ?? string.Empty;
            if (!reader.Read())
            {
                throw new JsonException($"Money property '{name}' has no value.");
            }

            if (string.Equals(name, AmountName, comparison))
            {
                if (amount is not null)
                {
                    throw new JsonException("Money has 'amount' twice.");
                }

                amount = ReadAmount(ref reader);
            }
            else if (string.Equals(name, CurrencyName, comparison))
            {
                if (currency is not null)
                {
                    throw new JsonException("Money has 'currency' twice.");
                }

                currency = ReadCurrency(ref reader);
            }
            else
            {
                throw new JsonException($"Money has no property '{name}'; it has exactly 'amount' and 'currency'.");
            }
        }

        if (amount is null)
        {
            throw new JsonException("Money is missing 'amount' (a JSON string such as \"100.00\").");
        }

        if (currency is null)
        {
            throw new JsonException("Money is missing 'currency' (an ISO 4217 code such as \"USD\").");
        }

        try
        {
            return Money.Parse(amount, currency);
        }
        catch (BankException e)
        {
            throw new JsonException(e.Message, e);
        }
    }

    public override void Write(Utf8JsonWriter writer, Money value, JsonSerializerOptions options)
    {
        if (value.Currency.IsDefault)
        {
            throw new JsonException("default(Money) has no currency and cannot be serialised.");
        }

        writer.WriteStartObject();
        writer.WriteString(AmountName, value.AmountString);
        writer.WriteString(CurrencyName, value.Currency.Code);
        writer.WriteEndObject();
    }

    private static string ReadAmount(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetString()!;
            case JsonTokenType.Number:
                throw new JsonException(
                    "Money amounts travel as JSON strings, such as \"amount\":\"100.00\", never as JSON numbers " +
                    "(a number can lose digits on its way through other JSON tools).");
            default:
                throw new JsonException(
                    "Money amounts travel as JSON strings, such as \"amount\":\"100.00\"; " +
                    $"got {CurrencyJsonConverter.Describe(reader.TokenType)}.");
        }
    }

    private static string ReadCurrency(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String
            ? reader.GetString()!
            : throw new JsonException(
                "Money's currency travels as a JSON string holding its ISO 4217 code, such as \"currency\":\"USD\"; " +
                $"got {CurrencyJsonConverter.Describe(reader.TokenType)}.");
}
