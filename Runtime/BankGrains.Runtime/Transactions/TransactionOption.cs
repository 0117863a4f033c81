namespace BankGrains.Runtime.Transactions;

/// <summary>How a grain method takes part in transactions (Orleans' TransactionOption).</summary>
public enum TransactionOption
{
    /// <summary>Runs outside any transaction; an ambient one is not passed on.</summary>
    Suppress,
    /// <summary>Joins the caller's transaction, or starts a new one when there is none.</summary>
    CreateOrJoin,
    /// <summary>Always starts a new transaction, even inside one.</summary>
    Create,
    /// <summary>Must be called inside a transaction, which it joins.</summary>
    Join,
    /// <summary>Joins the caller's transaction if there is one; runs without otherwise.</summary>
    Supported,
    /// <summary>Refuses to be called inside a transaction.</summary>
    NotAllowed,
}

/// <summary>Declares, on a grain interface method, how it takes part in transactions.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class TransactionAttribute(TransactionOption option) : Attribute
{
    public TransactionOption Option { get; } = option;
}
