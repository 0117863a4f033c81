using System.ComponentModel;
using BankGrains.Grains.Interfaces;

namespace BankGrains.Api.Contracts;

[Description("A new account for an existing customer.")]
public sealed record OpenAccountRequest(
    [property: Description("The owning customer's id (a GUID).")] string? CustomerId,
    [property: Description("ISO 4217 currency code, upper case, such as \"USD\".")] string? Currency,
    [property: Description("checking or savings (case-insensitive).")] string? Product,
    [property: Description("Overdraft limit in the account's currency, a decimal string; default \"0\". Checking accounts of KYC-full customers only.")]
    [property: JsonStringExample("500.00", " (amounts are JSON strings, never JSON numbers)")]
    string? OverdraftLimit = null);

[Description("An amount of money: a decimal string and an ISO 4217 currency code.")]
[JsonObjectExample("{\"amount\":\"100.00\",\"currency\":\"USD\"}")]
public sealed record MoneyInput(
    [property: Description("A positive decimal string with at most the currency's decimal places, such as \"100.00\".")]
    [property: JsonStringExample("100.00", " (amounts are JSON strings, never JSON numbers)")]
    string? Amount,
    [property: Description("ISO 4217 currency code, upper case, such as \"USD\".")]
    [property: JsonStringExample("USD")]
    string? Currency);

[Description("A deposit or a withdrawal.")]
public sealed record MoneyMovementRequest(
    [property: Description("The amount to move, in the account's currency.")] MoneyInput? Amount);

[Description("Why the account is frozen.")]
public sealed record FreezeRequest(
    [property: Description("Optional reason, at most 500 characters.")] string? Reason = null);

[Description("An account.")]
public sealed record AccountResponse(
    Guid Id,
    Guid CustomerId,
    AccountProduct Product,
    Currency Currency,
    Money Balance,
    Money OverdraftLimit,
    [property: Description("What can be withdrawn now: balance plus overdraft limit, or zero when the account is frozen or closed.")]
    Money Available,
    AccountStatus Status,
    string? FrozenReason,
    DateTimeOffset OpenedAt)
{
    public static AccountResponse From(AccountSnapshot account) =>
        new(account.Id, account.CustomerId, account.Product, account.Currency, account.Balance, account.OverdraftLimit,
            account.Available, account.Status, account.FrozenReason, account.OpenedAt);
}

[Description("What a problem type (the \"type\" of an error response) means.")]
public sealed record ProblemTypeResponse(string Type, string Code, int Status, string Title, string Description);
