using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Grains;

/// <summary>What an account grain stores. Unopened accounts have no record.</summary>
public sealed class AccountState : ILedgerChain, IDeepCopyable<AccountState>
{
    public bool IsOpen { get; set; }
    public Guid CustomerId { get; set; }
    public AccountProduct Product { get; set; }
    public Currency Currency { get; set; }
    public Money Balance { get; set; }
    public Money OverdraftLimit { get; set; }
    public AccountStatus Status { get; set; }
    public string? FrozenReason { get; set; }
    public DateTimeOffset OpenedAt { get; set; }
    public long LedgerSequence { get; set; }
    public string? LastEntryHash { get; set; }

    /// <summary>Every member is a value or an immutable string, so a shallow clone is a full copy.</summary>
    public AccountState DeepCopy() => (AccountState)MemberwiseClone();
}
