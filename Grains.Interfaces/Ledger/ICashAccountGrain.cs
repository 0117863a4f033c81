using BankGrains.Runtime;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Grains.Interfaces;

/// <summary>
/// The bank's own cash account in one currency (key: the ISO code): the other side of every deposit
/// and withdrawal, so those movements balance in the ledger like transfers do. It has no limit.
/// </summary>
public interface ICashAccountGrain : IGrainWithStringKey
{
    /// <summary>Posts a signed amount (positive credits, negative debits) inside the caller's transaction.</summary>
    [Transaction(TransactionOption.Join)]
    Task PostAsync(Money amount);

    /// <summary>The committed balance.</summary>
    [ReadOnly]
    Task<Money> GetBalanceAsync();
}

/// <summary>How ledger account ids are written in journal entries.</summary>
public static class LedgerAccounts
{
    public const string CashPrefix = "cash:";

    public static string ForAccount(Guid accountId) => accountId.ToString("D");

    public static string ForCash(Currency currency) => CashPrefix + currency.Code;
}
