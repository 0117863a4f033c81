using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Persistence;

namespace BankGrains.Grains;

/// <summary>
/// A deposit account. Every rule is checked before anything changes; a change is acknowledged only
/// once it is stored (a failed write rolls the in-memory state back).
/// </summary>
public sealed class AccountGrain(
    [PersistentState("account")] IPersistentState<AccountState> account,
    TimeProvider clock) : Grain, IAccountGrain
{
    private AccountState State => account.State;

    public async Task<AccountSnapshot> OpenAsync(Guid customerId, Currency currency, AccountProduct product, decimal overdraftLimit)
    {
        if (State.IsOpen)
            throw new BankException(BankErrorCode.AlreadyExists, $"Account {GetPrimaryKey()} is already open.");
        AccountProducts.EnsureValid(product, overdraftLimit);
        var limit = new Money(overdraftLimit, currency);

        State.IsOpen = true;
        State.CustomerId = customerId;
        State.Product = product;
        State.Currency = currency;
        State.Balance = Money.Zero(currency);
        State.OverdraftLimit = limit;
        State.Status = AccountStatus.Active;
        State.OpenedAt = clock.GetUtcNow();
        await account.WriteStateAsync();
        return Snapshot();
    }

    public Task<AccountSnapshot> GetAsync()
    {
        EnsureOpen();
        return Task.FromResult(Snapshot());
    }

    public async Task<AccountSnapshot> DepositAsync(Money amount)
    {
        EnsureOpen();
        EnsureNotClosed();
        EnsurePositiveInAccountCurrency(amount);

        State.Balance += amount;
        await account.WriteStateAsync();
        return Snapshot();
    }

    public async Task<AccountSnapshot> WithdrawAsync(Money amount)
    {
        EnsureOpen();
        EnsureNotClosed();
        if (State.Status == AccountStatus.Frozen)
            throw new BankException(BankErrorCode.AccountFrozen, $"Account {GetPrimaryKey()} is frozen and accepts no debits.");
        EnsurePositiveInAccountCurrency(amount);
        if (amount > Available())
            throw new BankException(BankErrorCode.InsufficientFunds,
                $"Withdrawing {amount} would exceed the available {Available()} (balance {State.Balance}, overdraft limit {State.OverdraftLimit}).");

        State.Balance -= amount;
        await account.WriteStateAsync();
        return Snapshot();
    }

    public async Task<AccountSnapshot> FreezeAsync(string reason)
    {
        EnsureOpen();
        EnsureNotClosed();
        var why = string.IsNullOrWhiteSpace(reason) ? "no reason given" : reason.Trim();
        if (State.Status == AccountStatus.Frozen && State.FrozenReason == why) return Snapshot();

        State.Status = AccountStatus.Frozen;
        State.FrozenReason = why;
        await account.WriteStateAsync();
        return Snapshot();
    }

    public async Task<AccountSnapshot> UnfreezeAsync()
    {
        EnsureOpen();
        EnsureNotClosed();
        if (State.Status == AccountStatus.Active) return Snapshot();

        State.Status = AccountStatus.Active;
        State.FrozenReason = null;
        await account.WriteStateAsync();
        return Snapshot();
    }

    private Money Available() =>
        State.Status == AccountStatus.Active ? State.Balance + State.OverdraftLimit : Money.Zero(State.Currency);

    private void EnsureOpen()
    {
        if (!State.IsOpen) throw new BankException(BankErrorCode.NotFound, $"Account {GetPrimaryKey()} does not exist.");
    }

    private void EnsureNotClosed()
    {
        if (State.Status == AccountStatus.Closed) throw new BankException(BankErrorCode.AccountClosed, $"Account {GetPrimaryKey()} is closed.");
    }

    private void EnsurePositiveInAccountCurrency(Money amount)
    {
        if (amount.Currency != State.Currency)
            throw new BankException(BankErrorCode.CurrencyMismatch, $"Account {GetPrimaryKey()} holds {State.Currency}; the amount is in {amount.Currency}.");
        if (!amount.IsPositive)
            throw new BankException(BankErrorCode.InvalidAmount, $"The amount must be positive; got {amount}.");
    }

    private AccountSnapshot Snapshot() => new(
        GetPrimaryKey(), State.CustomerId, State.Product, State.Currency, State.Balance, State.OverdraftLimit, Available(),
        State.Status, State.FrozenReason, State.OpenedAt);
}
