using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Persistence;

namespace BankGrains.Grains;

/// <summary>A customer: profile, KYC level, and the gate through which their accounts are opened.</summary>
public sealed class CustomerGrain(
    [PersistentState("customer")] IPersistentState<CustomerState> customer,
    TimeProvider clock) : Grain, ICustomerGrain
{
    private CustomerState State => customer.State;

    public async Task<CustomerSnapshot> CreateAsync(string name, string email)
    {
        if (State.Exists)
            throw new BankException(BankErrorCode.AlreadyExists, $"Customer {GetPrimaryKey()} already exists.");
        var cleanName = CustomerRules.ValidName(name);
        var cleanEmail = CustomerRules.ValidEmail(email);

        State.Exists = true;
        State.Name = cleanName;
        State.Email = cleanEmail;
        State.KycLevel = KycLevel.Basic;
        State.CreatedAt = clock.GetUtcNow();
        await customer.WriteStateAsync();
        return Snapshot();
    }

    public Task<CustomerSnapshot> GetAsync()
    {
        EnsureExists();
        return Task.FromResult(Snapshot());
    }

    public async Task<CustomerSnapshot> SetKycLevelAsync(KycLevel level)
    {
        EnsureExists();
        if (!Enum.IsDefined(level)) throw new BankException(BankErrorCode.Validation, $"Unknown KYC level '{level}'.");
        if (State.KycLevel == level) return Snapshot();

        State.KycLevel = level;
        await customer.WriteStateAsync();
        return Snapshot();
    }

    public async Task<AccountSnapshot> OpenAccountAsync(Guid accountId, Currency currency, AccountProduct product, decimal overdraftLimit)
    {
        EnsureExists();
        AccountProducts.EnsureValid(product, overdraftLimit);
        if (State.KycLevel == KycLevel.None)
            throw new BankException(BankErrorCode.KycRequired, $"Customer {GetPrimaryKey()} has not passed KYC and cannot open accounts.");
        if (overdraftLimit != 0 && State.KycLevel != KycLevel.Full)
            throw new BankException(BankErrorCode.KycRequired, "An overdraft needs a fully verified (KYC full) customer.");

        var account = GrainFactory.GetGrain<IAccountGrain>(accountId);
        var opened = await account.OpenAsync(GetPrimaryKey(), currency, product, overdraftLimit);
        State.AccountIds.Add(accountId);
        await customer.WriteStateAsync();
        return opened;
    }

    private void EnsureExists()
    {
        if (!State.Exists) throw new BankException(BankErrorCode.NotFound, $"Customer {GetPrimaryKey()} does not exist.");
    }

    private CustomerSnapshot Snapshot() =>
        new(GetPrimaryKey(), State.Name, State.Email, State.KycLevel, State.AccountIds.ToArray(), State.CreatedAt);
}
