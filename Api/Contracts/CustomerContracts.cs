using System.ComponentModel;
using BankGrains.Grains.Interfaces;

namespace BankGrains.Api.Contracts;

[Description("A new customer. The customer starts at KYC level basic.")]
public sealed record CreateCustomerRequest(
    [property: Description("Full name, 1–200 characters.")] string? Name,
    [property: Description("E-mail address, name@domain.")] string? Email);

[Description("The outcome of a KYC check.")]
public sealed record SetKycLevelRequest(
    [property: Description("none, basic or full (case-insensitive).")] string? Level);

[Description("A customer.")]
public sealed record CustomerResponse(
    Guid Id,
    string Name,
    string Email,
    [property: Description("none: may not open accounts; basic: accounts without overdraft; full: may also have an overdraft.")]
    KycLevel KycLevel,
    IReadOnlyList<Guid> AccountIds,
    DateTimeOffset CreatedAt)
{
    public static CustomerResponse From(CustomerSnapshot customer) =>
        new(customer.Id, customer.Name, customer.Email, customer.KycLevel, customer.AccountIds, customer.CreatedAt);
}
