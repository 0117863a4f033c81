using System.Text.Json.Serialization;

namespace BankGrains.Grains.Interfaces;

/// <summary>
/// An active ISO 4217 currency: its three-letter upper-case code and how many decimal places
/// (minor units) its amounts carry. Instances come only from <see cref="Parse"/>, <see cref="TryParse"/>,
/// <see cref="All"/> or the static members such as <see cref="USD"/>, so every non-default
/// <see cref="Currency"/> is one of <see cref="CurrencyTable"/>'s entries.
/// Two currencies are equal when their codes are equal.
/// </summary>
/// <remarks>
/// <c>default(Currency)</c> is not a currency: its <see cref="Code"/> is empty and
/// <see cref="IsDefault"/> is true. <see cref="Money"/> refuses it.
/// On the wire a currency is a plain JSON string such as <c>"USD"</c>.
/// </remarks>
[JsonConverter(typeof(CurrencyJsonConverter))]
[BankGrains.Runtime.Immutable]
public readonly record struct Currency
{
    private readonly string? _code;

    private Currency(string code, int minorUnits)
    {
        _code = code;
        MinorUnits = minorUnits;
    }

    /// <summary>The ISO 4217 alphabetic code, for example <c>"USD"</c>; empty for <c>default(Currency)</c>.</summary>
    public string Code => _code ?? string.Empty;

    /// <summary>How many decimal places amounts in this currency have (USD 2, JPY 0, BHD 3, CLF 4).</summary>
    public int MinorUnits { get; }

    /// <summary>True for <c>default(Currency)</c>, which is not a real currency.</summary>
    public bool IsDefault => _code is null;

    public static Currency USD { get; } = Known("USD");
    public static Currency EUR { get; } = Known("EUR");
    public static Currency GBP { get; } = Known("GBP");
    public static Currency JPY { get; } = Known("JPY");
    public static Currency BHD { get; } = Known("BHD");
    public static Currency CHF { get; } = Known("CHF");

    /// <summary>Every supported currency, ordered by code.</summary>
    public static IReadOnlyList<Currency> All { get; } =
        CurrencyTable.MinorUnitsByCode
            .OrderBy(entry => entry.Key, StringComparer.Ordinal)
            .Select(entry => new Currency(entry.Key, entry.Value))
            .ToArray();

    /// <summary>
    /// The currency whose ISO 4217 code is exactly <paramref name="code"/> (upper case; no trimming).
    /// </summary>
    /// <exception cref="BankException">
    /// <see cref="BankErrorCode.UnknownCurrency"/> when the code is missing, not upper case, or not a supported currency.
    /// </exception>
    public static Currency Parse(string? code)
    {
        if (TryParse(code, out var currency))
        {
            return currency;
        }

        throw new BankException(BankErrorCode.UnknownCurrency, DescribeUnknown(code));
    }

    /// <summary>Like <see cref="Parse"/>, but returns false (and <c>default</c>) instead of throwing.</summary>
    public static bool TryParse(string? code, out Currency currency)
    {
        if (code is not null && CurrencyTable.MinorUnitsByCode.TryGetValue(code, out var minorUnits))
        {
            currency = new Currency(code, minorUnits);
            return true;
        }

        currency = default;
        return false;
    }

    /// <summary>The ISO code, for example <c>"USD"</c>.</summary>
    public override string ToString() => Code;

    private static Currency Known(string code) => new(code, CurrencyTable.MinorUnitsByCode[code]);

    private static string DescribeUnknown(string? code)
    {
        if (code is null || code.Length == 0)
        {
            return "Currency code is missing; expected a three-letter upper-case ISO 4217 code such as 'USD'.";
        }

        var upper = code.ToUpperInvariant();
        if (!string.Equals(upper, code, StringComparison.Ordinal) && CurrencyTable.MinorUnitsByCode.ContainsKey(upper))
        {
            return $"Unknown currency code '{code}': currency codes are case-sensitive upper-case ISO 4217 codes; did you mean '{upper}'?";
        }

        return $"Unknown currency code '{code}': not an active ISO 4217 currency with minor units that this bank supports.";
    }
}
