using BankGrains.Runtime.Transactions;

namespace BankGrains.Grains;

/// <summary>The bank's cash account in one currency: a balance and the end of its journal chain.</summary>
public sealed class CashAccountState : ILedgerChain, IDeepCopyable<CashAccountState>
{
    public decimal Balance { get; set; }
    public long LedgerSequence { get; set; }
    public string? LastEntryHash { get; set; }

    /// <summary>Every member is a value or an immutable string, so a shallow clone is a full copy.</summary>
    public CashAccountState DeepCopy() => (CashAccountState)MemberwiseClone();
}
