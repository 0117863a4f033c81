using BankGrains.Grains.Interfaces;

namespace BankGrains.Grains;

/// <summary>The rules an account checks before anything changes; a refusal changes nothing.</summary>
public static class AccountRules
{
    /// <summary>What can be withdrawn now: balance plus overdraft, or zero when frozen or closed.</summary>
    public static Money Available(AccountState state) =>
        state.Status == AccountStatus.Active ? state.Balance + state.OverdraftLimit : Money.Zero(state.Currency);

    public static void EnsureOpen(AccountState state, Guid id)
    {
        if (!state.IsOpen) throw new BankException(BankErrorCode.NotFound, $"Account {id} does not exist.");
    }

    public static void EnsureCanCredit(AccountState state, Guid id, Money amount)
    {
        EnsureOpen(state, id);
        EnsureNotClosed(state, id);
        EnsurePositiveInAccountCurrency(state, id, amount);
    }

    public static void EnsureCanDebit(AccountState state, Guid id, Money amount)
    {
        EnsureOpen(state, id);
        EnsureNotClosed(state, id);
        if (state.Status == AccountStatus.Frozen)
            throw new BankException(BankErrorCode.AccountFrozen, $"Account {id} is frozen and accepts no debits.");
        EnsurePositiveInAccountCurrency(state, id, amount);
        if (amount > Available(state))
            throw new BankException(BankErrorCode.InsufficientFunds,
                $"Debiting {amount} would exceed the available {Available(state)} of account {id} (balance {state.Balance}, overdraft limit {state.OverdraftLimit}).");
    }

    public static void EnsureNotClosed(AccountState state, Guid id)
    {
        if (state.Status == AccountStatus.Closed) throw new BankException(BankErrorCode.AccountClosed, $"Account {id} is closed.");
    }

    private static void EnsurePositiveInAccountCurrency(AccountState state, Guid id, Money amount)
    {
        if (amount.Currency != state.Currency)
            throw new BankException(BankErrorCode.CurrencyMismatch, $"Account {id} holds {state.Currency}; the amount is in {amount.Currency}.");
        if (!amount.IsPositive)
            throw new BankException(BankErrorCode.InvalidAmount, $"The amount must be positive; got {amount}.");
    }
}
