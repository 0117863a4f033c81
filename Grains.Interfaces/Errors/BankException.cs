namespace BankGrains.Grains.Interfaces;

/// <summary>
/// Why the bank refused an operation. The code is stable (clients and the API's problem types rely
/// on it); the message is for people. A refused operation has changed nothing.
/// </summary>
public enum BankErrorCode
{
    /// <summary>Input is malformed or out of range (bad amount, empty name, …).</summary>
    Validation,
    /// <summary>An amount does not parse, is not positive where it must be, or has more decimals than its currency allows.</summary>
    InvalidAmount,
    /// <summary>Not an ISO 4217 currency code we support.</summary>
    UnknownCurrency,
    /// <summary>Two amounts, or an amount and an account, are in different currencies.</summary>
    CurrencyMismatch,
    /// <summary>The debit would take the balance below zero or below the overdraft limit.</summary>
    InsufficientFunds,
    /// <summary>The account is frozen and accepts no debits.</summary>
    AccountFrozen,
    /// <summary>The account is closed.</summary>
    AccountClosed,
    /// <summary>The customer, account or other resource does not exist.</summary>
    NotFound,
    /// <summary>The resource already exists (for example a second Create on one customer).</summary>
    AlreadyExists,
    /// <summary>The customer's KYC level or status does not allow the operation.</summary>
    KycRequired,
    /// <summary>The operation conflicts with the resource's current state.</summary>
    InvalidState,
}

/// <summary>A banking rule refused the operation; nothing changed.</summary>
public sealed class BankException(BankErrorCode code, string message) : Exception(message)
{
    public BankErrorCode Code { get; } = code;
}
