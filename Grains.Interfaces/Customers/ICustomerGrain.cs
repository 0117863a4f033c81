using BankGrains.Runtime;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Grains.Interfaces;

/// <summary>A bank customer: profile and KYC level, and the accounts opened for them.</summary>
public interface ICustomerGrain : IGrainWithGuidKey
{
    /// <summary>Registers the customer (KYC level Basic). A second call fails with AlreadyExists.</summary>
    [Transaction(TransactionOption.CreateOrJoin)]
    Task<CustomerSnapshot> CreateAsync(string name, string email);

    /// <summary>The customer as last committed; NotFound if never created.</summary>
    [ReadOnly]
    Task<CustomerSnapshot> GetAsync();

    /// <summary>Records the outcome of a KYC check.</summary>
    [Transaction(TransactionOption.CreateOrJoin)]
    Task<CustomerSnapshot> SetKycLevelAsync(KycLevel level);

    /// <summary>
    /// Opens an account for this customer, if their KYC level allows it: Basic or Full for an
    /// account without overdraft, Full for an overdraft. The account and the customer's list of
    /// accounts commit together, in one transaction.
    /// </summary>
    [Transaction(TransactionOption.CreateOrJoin)]
    Task<AccountSnapshot> OpenAccountAsync(Guid accountId, Currency currency, AccountProduct product, decimal overdraftLimit);
}

/// <summary>How far the customer's identity has been verified; gates what they may do.</summary>
public enum KycLevel
{
    /// <summary>Not verified, or verification revoked: may not open accounts.</summary>
    None,
    /// <summary>Identity data captured: may hold accounts without overdraft.</summary>
    Basic,
    /// <summary>Fully verified: may also be granted an overdraft.</summary>
    Full,
}

[BankGrains.Runtime.Immutable]
public sealed record CustomerSnapshot(
    Guid Id,
    string Name,
    string Email,
    KycLevel KycLevel,
    IReadOnlyList<Guid> AccountIds,
    DateTimeOffset CreatedAt);
