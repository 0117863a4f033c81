using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Grains;

/// <summary>
/// A customer: profile, KYC level, and the gate through which their accounts are opened. Changes are
/// transactions, so an account and the customer's list of accounts commit together.
/// </summary>
public sealed class CustomerGrain(
    [TransactionalState("customer")] ITransactionalState<CustomerState> customer,
    TimeProvider clock) : Grain, ICustomerGrain
{
    private Guid Id => GetPrimaryKey();

    public Task<CustomerSnapshot> CreateAsync(string name, string email) => customer.PerformUpdate(state =>
    {
        if (state.Exists) throw new BankException(BankErrorCode.AlreadyExists, $"Customer {Id} already exists.");
        var cleanName = CustomerRules.ValidName(name);
        var cleanEmail = CustomerRules.ValidEmail(email);
        state.Exists = true;
        state.Name = cleanName;
        state.Email = cleanEmail;
        state.KycLevel = KycLevel.Basic;
        state.CreatedAt = clock.GetUtcNow();
        Journal.Emit("customer.created", Id.ToString(), new { customerId = Id }, state.CreatedAt);
        return Snapshot(state);
    });

    public Task<CustomerSnapshot> GetAsync() => customer.PerformRead(state =>
    {
        EnsureExists(state);
        return Snapshot(state);
    });

    public Task<CustomerSnapshot> SetKycLevelAsync(KycLevel level) => customer.PerformUpdate(state =>
    {
        EnsureExists(state);
        if (!Enum.IsDefined(level)) throw new BankException(BankErrorCode.Validation, $"Unknown KYC level '{level}'.");
        if (state.KycLevel == level) return Snapshot(state);
        state.KycLevel = level;
        Journal.Emit("customer.kyc-changed", Id.ToString(), new { customerId = Id, level }, clock.GetUtcNow());
        return Snapshot(state);
    });

    public async Task<AccountSnapshot> OpenAccountAsync(Guid accountId, Currency currency, AccountProduct product, decimal overdraftLimit)
    {
        await customer.PerformRead(state =>
        {
            EnsureExists(state);
            AccountProducts.EnsureValid(product, overdraftLimit);
            if (state.KycLevel == KycLevel.None)
                throw new BankException(BankErrorCode.KycRequired, $"Customer {Id} has not passed KYC and cannot open accounts.");
            if (overdraftLimit != 0 && state.KycLevel != KycLevel.Full)
                throw new BankException(BankErrorCode.KycRequired, "An overdraft needs a fully verified (KYC full) customer.");
            return true;
        });
        var opened = await GrainFactory.GetGrain<IAccountGrain>(accountId).OpenAsync(Id, currency, product, overdraftLimit);
        await customer.PerformUpdate(state => state.AccountIds.Add(accountId));
        return opened;
    }

    private void EnsureExists(CustomerState state)
    {
        if (!state.Exists) throw new BankException(BankErrorCode.NotFound, $"Customer {Id} does not exist.");
    }

    private CustomerSnapshot Snapshot(CustomerState state) =>
        new(Id, state.Name, state.Email, state.KycLevel, state.AccountIds.ToArray(), state.CreatedAt);
}
