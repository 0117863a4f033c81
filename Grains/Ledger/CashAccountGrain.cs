using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Grains;

/// <summary>
/// The bank's cash account in one currency. Every deposit and withdrawal posts here, so it is the
/// busiest grain of all: its transactions queue on its lock only while they run, and commit in
/// batches through the pipeline of prepared versions.
/// </summary>
public sealed class CashAccountGrain(
    [TransactionalState("cash")] ITransactionalState<CashAccountState> cash,
    TimeProvider clock) : Grain, ICashAccountGrain
{
    private Currency Currency => Currency.Parse(GetPrimaryKeyString());

    public Task PostAsync(Money amount) => cash.PerformUpdate(state =>
    {
        if (amount.Currency != Currency)
            throw new BankException(BankErrorCode.CurrencyMismatch, $"The {Currency} cash account cannot post {amount}.");
        state.Balance += amount.Amount;
        Journal.Post(state, LedgerAccounts.ForCash(Currency), amount, new Money(state.Balance, Currency), clock.GetUtcNow());
    });

    public Task<Money> GetBalanceAsync() => cash.PerformRead(state => new Money(state.Balance, Currency));
}
