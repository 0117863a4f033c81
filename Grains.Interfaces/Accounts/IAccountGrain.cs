using BankGrains.Runtime;

namespace BankGrains.Grains.Interfaces;

/// <summary>A deposit account: one currency, a product, a status and a balance that never goes below its limit.</summary>
public interface IAccountGrain : IGrainWithGuidKey
{
    /// <summary>Opens the account. Called by the owning customer's grain, which has checked KYC.</summary>
    Task<AccountSnapshot> OpenAsync(Guid customerId, Currency currency, AccountProduct product, decimal overdraftLimit);

    /// <summary>The account; NotFound if never opened.</summary>
    [ReadOnly]
    Task<AccountSnapshot> GetAsync();

    /// <summary>Credits a positive amount in the account's currency. Frozen accounts still accept credits.</summary>
    Task<AccountSnapshot> DepositAsync(Money amount);

    /// <summary>Debits a positive amount; refused on a frozen or closed account, or beyond balance plus overdraft.</summary>
    Task<AccountSnapshot> WithdrawAsync(Money amount);

    /// <summary>Stops all debits until unfrozen.</summary>
    Task<AccountSnapshot> FreezeAsync(string reason);

    Task<AccountSnapshot> UnfreezeAsync();
}

public enum AccountProduct
{
    Checking,
    Savings,
}

public enum AccountStatus
{
    Active,
    Frozen,
    Closed,
}

[BankGrains.Runtime.Immutable]
public sealed record AccountSnapshot(
    Guid Id,
    Guid CustomerId,
    AccountProduct Product,
    Currency Currency,
    Money Balance,
    Money OverdraftLimit,
    // What can be withdrawn now: balance plus overdraft, or zero when frozen or closed.
    Money Available,
    AccountStatus Status,
    string? FrozenReason,
    DateTimeOffset OpenedAt);
