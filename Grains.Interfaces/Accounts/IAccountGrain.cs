using BankGrains.Runtime;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Grains.Interfaces;

/// <summary>
/// A deposit account: one currency, a product, a status and a balance that never goes below its
/// limit. Every change is a transaction: it posts journal entries to the double-entry ledger and
/// commits with them, or not at all.
/// </summary>
public interface IAccountGrain : IGrainWithGuidKey
{
    /// <summary>Opens the account. Called by the owning customer's grain, which has checked KYC.</summary>
    [Transaction(TransactionOption.CreateOrJoin)]
    Task<AccountSnapshot> OpenAsync(Guid customerId, Currency currency, AccountProduct product, decimal overdraftLimit);

    /// <summary>The account as last committed; NotFound if never opened.</summary>
    [ReadOnly]
    Task<AccountSnapshot> GetAsync();

    /// <summary>Credits a positive amount in the account's currency, against the bank's cash account. Frozen accounts still accept credits.</summary>
    [Transaction(TransactionOption.CreateOrJoin)]
    Task<AccountSnapshot> DepositAsync(Money amount);

    /// <summary>Debits a positive amount, against the bank's cash account; refused on a frozen or closed account, or beyond balance plus overdraft.</summary>
    [Transaction(TransactionOption.CreateOrJoin)]
    Task<AccountSnapshot> WithdrawAsync(Money amount);

    /// <summary>One leg of a movement inside the caller's transaction: raises the balance.</summary>
    [Transaction(TransactionOption.Join)]
    Task<AccountSnapshot> CreditAsync(Money amount);

    /// <summary>One leg of a movement inside the caller's transaction: lowers the balance, within the account's rules.</summary>
    [Transaction(TransactionOption.Join)]
    Task<AccountSnapshot> DebitAsync(Money amount);

    /// <summary>Stops all debits until unfrozen.</summary>
    [Transaction(TransactionOption.CreateOrJoin)]
    Task<AccountSnapshot> FreezeAsync(string reason);

    [Transaction(TransactionOption.CreateOrJoin)]
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
