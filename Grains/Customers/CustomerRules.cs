using BankGrains.Grains.Interfaces;

namespace BankGrains.Grains;

/// <summary>Validation of customer profile fields.</summary>
internal static class CustomerRules
{
    public const int MaxNameLength = 200;
    public const int MaxEmailLength = 254; // RFC 5321 path limit

    public static string ValidName(string? name)
    {
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed)) throw new BankException(BankErrorCode.Validation, "name is required.");
        if (trimmed.Length > MaxNameLength) throw new BankException(BankErrorCode.Validation, $"name is longer than {MaxNameLength} characters.");
        if (trimmed.Any(char.IsControl)) throw new BankException(BankErrorCode.Validation, "name contains control characters.");
        return trimmed;
    }

    /// <summary>A structural check (local@domain.tld, no spaces); real ownership is proven by KYC, not here.</summary>
    public static string ValidEmail(string? email)
    {
        var trimmed = email?.Trim();
        if (string.IsNullOrEmpty(trimmed)) throw new BankException(BankErrorCode.Validation, "email is required.");
        var at = trimmed.IndexOf('@');
        var valid = trimmed.Length <= MaxEmailLength
                    && at > 0 && at == trimmed.LastIndexOf('@')
                    && trimmed.IndexOf('.', at) > at + 1 && !trimmed.EndsWith('.')
                    && !trimmed.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));
        if (!valid) throw new BankException(BankErrorCode.Validation, "email must look like name@domain.tld.");
        // Domains are case-insensitive; the local part is the mailbox owner's business.
        return trimmed[..(at + 1)] + trimmed[(at + 1)..].ToLowerInvariant();
    }
}
