namespace BankGrains.Grains;

/// <summary>The bank's cash account in one currency: a balance and the end of its journal chain.</summary>
public sealed class CashAccountState : ILedgerChain
{
    public decimal Balance { get; set; }
    public long LedgerSequence { get; set; }
    public string? LastEntryHash { get; set; }
}
