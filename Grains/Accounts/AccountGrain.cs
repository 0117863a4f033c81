using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Grains;

/// <summary>
/// A deposit account. Every change runs in a transaction on the account's transactional state: the
/// rules are checked before anything changes, each movement posts a journal entry that extends the
/// account's hash chain, and the change becomes the account's state only when the whole transaction
/// commits. Reads outside a transaction see the last committed state.
/// </summary>
public sealed class AccountGrain(
    [TransactionalState("account")] ITransactionalState<AccountState> account,
    TimeProvider clock) : Grain, IAccountGrain
{
    private Guid Id => GetPrimaryKey();

    public Task<AccountSnapshot> OpenAsync(Guid customerId, Currency currency, AccountProduct product, decimal overdraftLimit) =>
        account.PerformUpdate(state =>
        {
            if (state.IsOpen) throw new BankException(BankErrorCode.AlreadyExists, $"Account {Id} is already open.");
            AccountProducts.EnsureValid(product, overdraftLimit);
            state.IsOpen = true;
            state.CustomerId = customerId;
            state.Product = product;
            state.Currency = currency;
            state.Balance = Money.Zero(currency);
            state.OverdraftLimit = new Money(overdraftLimit, currency);
            state.Status = AccountStatus.Active;
            state.OpenedAt = clock.GetUtcNow();
            Journal.Emit("account.opened", Id.ToString(), new { accountId = Id, customerId, currency, product }, state.OpenedAt);
            return Snapshot(state);
        });

    public Task<AccountSnapshot> GetAsync() => account.PerformRead(state =>
    {
        AccountRules.EnsureOpen(state, Id);
        return Snapshot(state);
    });

    public async Task<AccountSnapshot> DepositAsync(Money amount)
    {
        var snapshot = await CreditAsync(amount);
        await GrainFactory.GetGrain<ICashAccountGrain>(amount.Currency.Code).PostAsync(-amount);
        Journal.Describe("deposit", null, new { accountId = Id, amount }, clock.GetUtcNow());
        return snapshot;
    }

    public async Task<AccountSnapshot> WithdrawAsync(Money amount)
    {
        var snapshot = await DebitAsync(amount);
        await GrainFactory.GetGrain<ICashAccountGrain>(amount.Currency.Code).PostAsync(amount);
        Journal.Describe("withdrawal", null, new { accountId = Id, amount }, clock.GetUtcNow());
        return snapshot;
    }

    public Task<AccountSnapshot> CreditAsync(Money amount) => account.PerformUpdate(state =>
    {
        AccountRules.EnsureCanCredit(state, Id, amount);
        Post(state, amount);
        return Snapshot(state);
    });

    public Task<AccountSnapshot> DebitAsync(Money amount) => account.PerformUpdate(state =>
    {
        AccountRules.EnsureCanDebit(state, Id, amount);
        Post(state, -amount);
        return Snapshot(state);
    });

    public Task<AccountSnapshot> FreezeAsync(string reason) => account.PerformUpdate(state =>
    {
        AccountRules.EnsureOpen(state, Id);
        AccountRules.EnsureNotClosed(state, Id);
        var why = string.IsNullOrWhiteSpace(reason) ? "no reason given" : reason.Trim();
        if (state.Status == AccountStatus.Frozen && state.FrozenReason == why) return Snapshot(state);
        state.Status = AccountStatus.Frozen;
        state.FrozenReason = why;
        Journal.Emit("account.frozen", Id.ToString(), new { accountId = Id, reason = why }, clock.GetUtcNow());
        return Snapshot(state);
    });

    public Task<AccountSnapshot> UnfreezeAsync() => account.PerformUpdate(state =>
    {
        AccountRules.EnsureOpen(state, Id);
        AccountRules.EnsureNotClosed(state, Id);
        if (state.Status == AccountStatus.Active) return Snapshot(state);
        state.Status = AccountStatus.Active;
        state.FrozenReason = null;
        Journal.Emit("account.unfrozen", Id.ToString(), new { accountId = Id }, clock.GetUtcNow());
        return Snapshot(state);
    });

    private void Post(AccountState state, Money signedAmount)
    {
        state.Balance += signedAmount;
        Journal.Post(state, LedgerAccounts.ForAccount(Id), signedAmount, state.Balance, clock.GetUtcNow());
    }

    private AccountSnapshot Snapshot(AccountState state) => new(
        Id, state.CustomerId, state.Product, state.Currency, state.Balance, state.OverdraftLimit, AccountRules.Available(state),
        state.Status, state.FrozenReason, state.OpenedAt);
}
