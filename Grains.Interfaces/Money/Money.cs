using System.Globalization;
using System.Text.Json.Serialization;

namespace BankGrains.Grains.Interfaces;

/// <summary>
/// An amount of one currency. The amount is exact (<see cref="decimal"/>, never floating point), never has
/// more decimal places than the currency's minor units, and is always stored at exactly that scale, so
/// 1.5 USD and 1.50 USD are the same value and both print "1.50". Its magnitude is below
/// <see cref="AmountLimit"/> (10^15, at most <see cref="MaxIntegerDigits"/> integer digits).
/// </summary>
/// <remarks>
/// Arithmetic and ordering need both sides in the same currency and otherwise throw
/// <see cref="BankException"/> with <see cref="BankErrorCode.CurrencyMismatch"/>; equality (<c>==</c>) does not
/// throw: amounts in different currencies are simply not equal.
/// <c>default(Money)</c> has no currency; <see cref="Money"/>'s operations and its JSON converter refuse it.
/// On the wire: <c>{"amount":"100.00","currency":"USD"}</c>, the amount always a JSON string.
/// </remarks>
[JsonConverter(typeof(MoneyJsonConverter))]
[BankGrains.Runtime.Immutable]
public readonly record struct Money : IComparable<Money>
{
    /// <summary>Amounts must be strictly smaller than this in magnitude (10^15).</summary>
    public const decimal AmountLimit = 1_000_000_000_000_000m;

    /// <summary>The most integer digits an amount can have (999,999,999,999,999 is the largest whole amount).</summary>
    public const int MaxIntegerDigits = 15;

    // Zero at each scale 0..4: adding one of these to a decimal raises its scale to that many places.
    private static readonly decimal[] ZeroAtScale = [0m, 0.0m, 0.00m, 0.000m, 0.0000m];

    /// <summary>
    /// Creates an amount, normalised to exactly <paramref name="currency"/>'s minor units.
    /// </summary>
    /// <exception cref="BankException">
    /// <see cref="BankErrorCode.InvalidAmount"/> when the amount has more decimal places than the currency allows
    /// (trailing zeros do not count) or its magnitude is not below <see cref="AmountLimit"/>;
    /// <see cref="BankErrorCode.UnknownCurrency"/> when <paramref name="currency"/> is <c>default</c>.
    /// </exception>
    public Money(decimal amount, Currency currency)
    {
        RequireRealCurrency(currency);
        Amount = Normalise(amount, currency, shownAs: null);
        Currency = currency;
    }

    /// <summary>The amount, at exactly <see cref="Currency"/>'s minor-unit scale.</summary>
    public decimal Amount { get; }

    public Currency Currency { get; }

    public bool IsPositive => Amount > 0m;

    public bool IsNegative => Amount < 0m;

    public bool IsZero => Amount == 0m;

    /// <summary>
    /// The amount with exactly the currency's minor-unit decimals, invariant culture, no grouping:
    /// "100.00", "-5.00", "100" (JPY), "1.250" (BHD).
    /// </summary>
    public string AmountString => Amount.ToString(CultureInfo.InvariantCulture);

    /// <summary>Zero in <paramref name="currency"/>, for example "0.00 USD".</summary>
    public static Money Zero(Currency currency) => new(0m, currency);

    /// <summary>
    /// Parses an amount string such as "100.00" in the currency with ISO code <paramref name="currencyCode"/>.
    /// </summary>
    /// <exception cref="BankException">
    /// <see cref="BankErrorCode.UnknownCurrency"/> for an unknown or non-upper-case code (checked first);
    /// <see cref="BankErrorCode.InvalidAmount"/> as described for <see cref="Parse(string?, Currency)"/>.
    /// </exception>
    public static Money Parse(string? amount, string? currencyCode) => Parse(amount, Currency.Parse(currencyCode));

    /// <summary>
    /// Parses an amount string in <paramref name="currency"/>. The string must be exactly
    /// <c>-?[0-9]+(\.[0-9]+)?</c>: ASCII digits, an optional leading '-', an optional '.' with digits on both
    /// sides; no '+', exponent, spaces, thousands separators or culture-specific symbols.
    /// </summary>
    /// <exception cref="BankException">
    /// <see cref="BankErrorCode.InvalidAmount"/> when the string is missing or malformed, has more decimal places
    /// than the currency allows (trailing zeros do not count: "1.500" USD is 1.50), or is out of range;
    /// <see cref="BankErrorCode.UnknownCurrency"/> when <paramref name="currency"/> is <c>default</c>.
    /// </exception>
    public static Money Parse(string? amount, Currency currency)
    {
        RequireRealCurrency(currency);
        if (string.IsNullOrEmpty(amount))
        {
            throw new BankException(
                BankErrorCode.InvalidAmount,
                $"Amount is missing; expected a decimal string such as '{Example(currency)}' for {currency.Code}.");
        }

        var text = amount.AsSpan();
        var negative = text[0] == '-';
        var body = negative ? text[1..] : text;
        var dot = body.IndexOf('.');
        var integerPart = dot < 0 ? body : body[..dot];
        var fractionPart = dot < 0 ? ReadOnlySpan<char>.Empty : body[(dot + 1)..];

        if (integerPart.IsEmpty || !AllAsciiDigits(integerPart) || (dot >= 0 && (fractionPart.IsEmpty || !AllAsciiDigits(fractionPart))))
        {
            throw new BankException(
                BankErrorCode.InvalidAmount,
                $"Amount '{Shorten(amount)}' is not a plain decimal number: use ASCII digits with an optional leading '-' " +
                $"and an optional '.' followed by digits (no '+', exponent, spaces or thousands separators), " +
                $"for example '{Example(currency)}' for {currency.Code}.");
        }

        var significantFraction = fractionPart.TrimEnd('0');
        if (significantFraction.Length > currency.MinorUnits)
        {
            throw TooManyDecimals(currency, Shorten(amount));
        }

        var significantInteger = integerPart.TrimStart('0');
        if (significantInteger.Length > MaxIntegerDigits)
        {
            throw OutOfRange(currency, Shorten(amount));
        }

        // At most 15 + 4 significant digits: decimal holds this exactly.
        var canonical = string.Concat(
            negative ? "-" : string.Empty,
            significantInteger.IsEmpty ? "0" : significantInteger,
            significantFraction.IsEmpty ? string.Empty : ".",
            significantFraction);
        var value = decimal.Parse(
            canonical,
            NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
            CultureInfo.InvariantCulture);
        return new Money(value, currency);
    }

    public static Money operator +(Money left, Money right)
    {
        RequireSameCurrency(left, right, "add");
        return new Money(left.Amount + right.Amount, left.Currency);
    }

    public static Money operator -(Money left, Money right)
    {
        RequireSameCurrency(left, right, "subtract");
        return new Money(left.Amount - right.Amount, left.Currency);
    }

    public static Money operator -(Money value)
    {
        RequireNotDefault(value);
        return new Money(-value.Amount, value.Currency);
    }

    public static bool operator <(Money left, Money right) => left.CompareTo(right) < 0;

    public static bool operator >(Money left, Money right) => left.CompareTo(right) > 0;

    public static bool operator <=(Money left, Money right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Money left, Money right) => left.CompareTo(right) >= 0;

    /// <summary>Orders amounts of one currency.</summary>
    /// <exception cref="BankException"><see cref="BankErrorCode.CurrencyMismatch"/> when the currencies differ.</exception>
    public int CompareTo(Money other)
    {
        RequireSameCurrency(this, other, "compare");
        return Amount.CompareTo(other.Amount);
    }

    public void Deconstruct(out decimal amount, out Currency currency)
    {
        amount = Amount;
        currency = Currency;
    }

    /// <summary>For example "100.00 USD", "-5.00 USD", "100 JPY", "1.250 BHD".</summary>
    public override string ToString() =>
        Currency.IsDefault ? "default(Money)" : $"{AmountString} {Currency.Code}";

    private static decimal Normalise(decimal amount, Currency currency, string? shownAs)
    {
        if (amount >= AmountLimit || amount <= -AmountLimit)
        {
            throw OutOfRange(currency, shownAs ?? amount.ToString(CultureInfo.InvariantCulture));
        }

        var minorUnits = currency.MinorUnits;
        var rounded = decimal.Round(amount, minorUnits);
        if (rounded != amount)
        {
            throw TooManyDecimals(currency, shownAs ?? amount.ToString(CultureInfo.InvariantCulture));
        }

        // Round lowered any larger scale to minorUnits; adding a zero of that scale raises a smaller one.
        // Zero (including a negative zero) becomes a plain positive zero.
        return rounded == 0m ? ZeroAtScale[minorUnits] : rounded + ZeroAtScale[minorUnits];
    }

    private static BankException TooManyDecimals(Currency currency, string shownAs) =>
        new(
            BankErrorCode.InvalidAmount,
            currency.MinorUnits == 0
                ? $"{currency.Code} amounts have no decimal places; got '{shownAs}'."
                : $"{currency.Code} amounts have at most {currency.MinorUnits} decimal place{(currency.MinorUnits == 1 ? "" : "s")}; got '{shownAs}'.");

    private static BankException OutOfRange(Currency currency, string shownAs) =>
        new(
            BankErrorCode.InvalidAmount,
            $"Amount '{shownAs}' {currency.Code} is out of range: amounts must be smaller than 10^15 in magnitude " +
            $"(at most {MaxIntegerDigits} integer digits).");

    private static void RequireRealCurrency(Currency currency)
    {
        if (currency.IsDefault)
        {
            throw new BankException(BankErrorCode.UnknownCurrency, "Money needs a currency; default(Currency) is not one.");
        }
    }

    private static void RequireNotDefault(Money value)
    {
        if (value.Currency.IsDefault)
        {
            throw new InvalidOperationException("default(Money) has no currency and cannot take part in arithmetic or comparisons.");
        }
    }

    private static void RequireSameCurrency(Money left, Money right, string verb)
    {
        RequireNotDefault(left);
        RequireNotDefault(right);
        if (left.Currency != right.Currency)
        {
            throw new BankException(
                BankErrorCode.CurrencyMismatch,
                $"Cannot {verb} amounts in different currencies ({left.Currency.Code} and {right.Currency.Code}).");
        }
    }

    private static bool AllAsciiDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    private static string Example(Currency currency) =>
        currency.MinorUnits == 0 ? "100" : "100." + new string('0', currency.MinorUnits);

    // Keeps hostile or accidental megabyte-long inputs out of exception messages and logs.
    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
}
