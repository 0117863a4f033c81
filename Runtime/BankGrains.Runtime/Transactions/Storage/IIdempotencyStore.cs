namespace BankGrains.Runtime.Transactions;

/// <summary>
/// Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field"). A request claims its key
/// before it runs; the key is completed either in the same commit as the money it moved (an
/// <see cref="IdempotencyRecord"/> in the transaction's records) or, when it moved nothing, by
/// <see cref="CompleteAsync"/>. Correctness never rests on the claim: a commit whose key is already
/// completed is refused (<see cref="CommitStatus.IdempotencyKeyUsed"/>), so a key moves money at most once.
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>
    /// Claims <paramref name="key"/> for a request with <paramref name="requestHash"/>: a new key, or one
    /// whose claim lease has run out, becomes claimed by <paramref name="owner"/> until <paramref name="leaseUntil"/>.
    /// </summary>
    Task<IdempotencyClaim> ClaimAsync(string key, string requestHash, Guid owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken = default);

    /// <summary>Stores the answer of a claimed request that moved no money (a refusal), if <paramref name="owner"/> still holds the claim.</summary>
    Task CompleteAsync(string key, Guid owner, int statusCode, string responseBody, CancellationToken cancellationToken = default);

    /// <summary>Drops a claim whose request ended without an answer worth keeping, so a retry may run at once.</summary>
    Task ReleaseAsync(string key, Guid owner, CancellationToken cancellationToken = default);
}

public enum IdempotencyClaimStatus
{
    /// <summary>The caller holds the key now and must run the request.</summary>
    Claimed,
    /// <summary>The key was completed for the same request: replay <see cref="IdempotencyClaim.StatusCode"/> and body.</summary>
    Completed,
    /// <summary>The key was used with a different request body.</summary>
    Mismatch,
    /// <summary>A request with this key is still running.</summary>
    InProgress,
}

public sealed record IdempotencyClaim(IdempotencyClaimStatus Status, int StatusCode = 0, string? ResponseBody = null);
