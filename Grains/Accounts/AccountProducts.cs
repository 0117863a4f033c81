using BankGrains.Grains.Interfaces;

namespace BankGrains.Grains;

/// <summary>What each account product allows; checked where an account is requested and where it is opened.</summary>
internal static class AccountProducts
{
    public static void EnsureValid(AccountProduct product, decimal overdraftLimit)
    {
        if (!Enum.IsDefined(product))
            throw new BankException(BankErrorCode.Validation, $"Unknown product '{product}'.");
        if (overdraftLimit < 0)
            throw new BankException(BankErrorCode.Validation, "An overdraft limit cannot be negative.");
        if (product == AccountProduct.Savings && overdraftLimit != 0)
            throw new BankException(BankErrorCode.Validation, "overdraftLimit must be \"0\" for a savings account: only checking accounts can have an overdraft.");
    }
}
