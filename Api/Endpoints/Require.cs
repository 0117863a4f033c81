using System.Text.Json;
using BankGrains.Api.Contracts;
using BankGrains.Grains.Interfaces;

namespace BankGrains.Api.Endpoints;

/// <summary>
/// Checks request fields before anything reaches a grain. Each check returns the parsed value or throws a
/// <see cref="BankException"/> (Validation, InvalidAmount or UnknownCurrency) whose message names the field.
/// </summary>
internal static class Require
{
    public const int MaxNameLength = 200;
    public const int MaxEmailLength = 254;
    public const int MaxReasonLength = 500;
    public const int MaxReferenceLength = 140;

    public static T Body<T>(T? body) where T : class =>
        body ?? throw Invalid("A JSON request body is required.");

    /// <summary>A trimmed, non-empty text without control characters.</summary>
    public static string Text(string? value, string field, int maxLength)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text)) throw Invalid($"{field} is required.");
        if (text.Length > maxLength) throw Invalid($"{field} must be at most {maxLength} characters.");
        if (text.Any(char.IsControl)) throw Invalid($"{field} must not contain control characters.");
        return text;
    }

    /// <summary>Like <see cref="Text"/>, but a missing or blank value is null.</summary>
    public static string? OptionalText(string? value, string field, int maxLength) =>
        string.IsNullOrWhiteSpace(value) ? null : Text(value, field, maxLength);

    /// <summary>A structural check only (local@domain.tld, no spaces); ownership is for KYC to prove.</summary>
    public static string Email(string? value, string field)
    {
        var email = value?.Trim();
        if (string.IsNullOrEmpty(email)) throw Invalid($"{field} is required.");
        var at = email.IndexOf('@');
        var domain = at < 0 ? "" : email[(at + 1)..];
        var valid = email.Length <= MaxEmailLength
                    && at > 0 && at == email.LastIndexOf('@')
                    && domain.Split('.') is { Length: >= 2 } labels && labels.All(label => label.Length > 0)
                    && !email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));
        if (!valid) throw Invalid($"{field} must look like name@domain (for example ada@example.com).");
        return email;
    }

    public static Guid Id(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value)) throw Invalid($"{field} is required.");
        if (!Guid.TryParse(value, out var id) || id == Guid.Empty)
            throw Invalid($"{field} must be a GUID such as \"0199a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b\".");
        return id;
    }

    /// <summary>An optional whole number from a query string, within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static int Count(string? value, string field, int min, int max, int defaultValue)
    {
        if (value is null) return defaultValue;
        if (!int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count)
            || count < min || count > max)
            throw Invalid($"{field} must be a whole number from {min} to {max}; got \"{Shorten(value)}\".");
        return count;
    }

    /// <summary>An optional true/false from a query string.</summary>
    public static bool Flag(string? value, string field) =>
        value is null ? false
        : bool.TryParse(value, out var flag) ? flag
        : throw Invalid($"{field} must be true or false; got \"{Shorten(value)}\".");

    /// <summary>One of <typeparamref name="T"/>'s names, ignoring case; numbers and combinations are refused.</summary>
    public static T Choice<T>(string? value, string field) where T : struct, Enum
    {
        var names = Enum.GetNames<T>();
        var allowed = string.Join(", ", names.Select(JsonNamingPolicy.CamelCase.ConvertName));
        if (string.IsNullOrWhiteSpace(value)) throw Invalid($"{field} is required: one of {allowed}.");
        var name = names.FirstOrDefault(n => string.Equals(n, value.Trim(), StringComparison.OrdinalIgnoreCase));
        if (name is null) throw Invalid($"{field} must be one of {allowed}; got \"{Shorten(value)}\".");
        return Enum.Parse<T>(name);
    }

    public static Currency Currency(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
            throw new BankException(BankErrorCode.UnknownCurrency, $"{field} is required: an ISO 4217 code such as \"USD\".");
        try
        {
            return Grains.Interfaces.Currency.Parse(value);
        }
        catch (BankException e)
        {
            throw new BankException(e.Code, $"{field}: {e.Message}");
        }
    }

    /// <summary>An amount that must be greater than zero, given as {"amount":"100.00","currency":"USD"}.</summary>
    public static Money PositiveAmount(MoneyInput? input, string field)
    {
        if (input is null)
            throw Invalid($"{field} is required, for example {{\"{field}\":{{\"amount\":\"100.00\",\"currency\":\"USD\"}}}}.");
        var currency = Currency(input.Currency, $"{field}.currency");
        if (string.IsNullOrEmpty(input.Amount))
            throw new BankException(BankErrorCode.InvalidAmount, $"{field}.amount is required: a string like \"100.00\".");
        var money = Amount(input.Amount, currency, $"{field}.amount");
        if (!money.IsPositive)
            throw new BankException(BankErrorCode.InvalidAmount, $"{field}.amount must be greater than zero; got \"{money.AmountString}\".");
        return money;
    }

    /// <summary>An amount of <paramref name="currency"/> that may be zero but not negative.</summary>
    public static Money NonNegativeAmount(string amount, Currency currency, string field)
    {
        var money = Amount(amount, currency, field);
        if (money.IsNegative)
            throw new BankException(BankErrorCode.InvalidAmount, $"{field} must not be negative; got \"{money.AmountString}\".");
        return money;
    }

    private static Money Amount(string amount, Currency currency, string field)
    {
        try
        {
            return Money.Parse(amount, currency);
        }
        catch (BankException e)
        {
            throw new BankException(e.Code, $"{field}: {e.Message}");
        }
    }

    private static BankException Invalid(string message) => new(BankErrorCode.Validation, message);

    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
}
