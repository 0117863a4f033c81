using BankGrains.Runtime;

namespace BankGrains.Grains.Interfaces;

/// <summary>
/// Moves money for the channels: each order runs as one transaction named by the order's id, which
/// the caller chooses, so an order whose outcome was lost can be looked up (GET /transfers/{id}) and
/// resolved. A stateless worker: it runs on whichever silo receives the order, which coordinates it.
/// </summary>
public interface ITellerGrain : IGrainWithIntegerKey
{
    Task<TransferReceipt> TransferAsync(TransferOrder order);

    Task<AccountSnapshot> DepositAsync(CashOrder order);

    Task<AccountSnapshot> WithdrawAsync(CashOrder order);
}

/// <summary>Which teller a channel calls for an order on an account.</summary>
public static class Tellers
{
    /// <summary>Teller keys in use; a cluster client sends each key to one silo, so several keys spread the coordination over the silos.</summary>
    public const int Keys = 64;

    /// <summary>The same account always goes through the same teller key; different accounts spread over all of them.</summary>
    public static long For(Guid accountId) => (long)((uint)accountId.GetHashCode() % Keys);
}

/// <summary>The request's Idempotency-Key: the answer to keep for it is committed with the movement.</summary>
[Immutable]
public sealed record IdempotencyStamp(string Key, string RequestHash, int StatusCode);

[Immutable]
public sealed record TransferOrder(Guid TransferId, Guid FromAccountId, Guid ToAccountId, Money Amount, string? Reference, IdempotencyStamp? Idempotency = null);

[Immutable]
public sealed record CashOrder(Guid MovementId, Guid AccountId, Money Amount, IdempotencyStamp? Idempotency = null);

[Immutable]
public sealed record TransferReceipt(Guid Id, Guid FromAccountId, Guid ToAccountId, Money Amount, string? Reference, DateTimeOffset CreatedAt)
{
    public string Status => "completed";
}
