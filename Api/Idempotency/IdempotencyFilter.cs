using System.Text.Json;
using BankGrains.Api.Movements;
using BankGrains.Api.Problems;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Transactions;
using Microsoft.Extensions.Options;

namespace BankGrains.Api.Idempotency;

/// <summary>
/// Runs a money-moving endpoint at most once per Idempotency-Key. The key is claimed (leased for the
/// settlement horizon) under the movement's id before the endpoint runs; then:
/// <list type="bullet">
/// <item>success: the teller committed the answer with the money (the movement's stamp), nothing more to do;</item>
/// <item>a refusal (<see cref="BankException"/>): nothing moved, so the problem is stored as the key's answer and returned;</item>
/// <item>an abort (<see cref="TransactionAbortedException"/>): certainly nothing changed, so the claim is released for an immediate retry;</item>
/// <item>anything else (timeouts, in-doubt commits): the outcome is unknown, so the claim stays until its lease runs out.</item>
/// </list>
/// A key completed earlier for the same request is answered with its stored status and body, marked Idempotent-Replayed.
/// </summary>
internal sealed class IdempotencyFilter(Func<string, IResult> renderAnswer, Func<Guid, string>? statusLink) : IEndpointFilter
{
    private static readonly TimeSpan InProgressRetryAfter = TimeSpan.FromSeconds(1);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var services = http.RequestServices;
        var movement = context.Arguments.OfType<MoneyMovement>().SingleOrDefault()
                       ?? throw new InvalidOperationException($"{http.GetEndpoint()?.DisplayName} needs a {nameof(MoneyMovement)} parameter to require an Idempotency-Key.");
        if (statusLink is not null) movement.StatusLink = statusLink(movement.Id);

        var key = IdempotencyKeyHeader.Read(http.Request);
        var json = services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        var hash = RequestFingerprint.Compute(context, json);
        var store = services.GetRequiredService<IIdempotencyStore>();
        var leaseUntil = services.GetRequiredService<TimeProvider>().GetUtcNow()
                         + SettlementHorizon.Of(services.GetRequiredService<IOptions<TransactionOptions>>().Value);
        var logger = services.GetRequiredService<ILogger<IdempotencyFilter>>();

        var claim = await store.ClaimAsync(key, hash, movement.Id, leaseUntil, http.RequestAborted);
        if (claim.Status != IdempotencyClaimStatus.Claimed) return Answer(http, claim);
        movement.Claimed(key, hash);

        try
        {
            return await next(context);
        }
        catch (BankException refusal)
        {
            return await KeepRefusalAsync(http, store, key, movement, refusal, json, logger);
        }
        catch (TransactionAbortedException aborted) when (KeyAlreadyUsed(aborted))
        {
            // Another request completed this key while this one ran (after this claim's lease ran out):
            // nothing of this attempt was written, so answer as the key's request was answered.
            var again = await store.ClaimAsync(key, hash, movement.Id, leaseUntil, CancellationToken.None);
            if (again.Status != IdempotencyClaimStatus.Claimed) return Answer(http, again);
            await ReleaseAsync(store, key, movement, logger);
            throw;
        }
        catch (TransactionAbortedException)
        {
            await ReleaseAsync(store, key, movement, logger);
            throw;
        }
    }

    private IResult Answer(HttpContext http, IdempotencyClaim claim)
    {
        switch (claim.Status)
        {
            case IdempotencyClaimStatus.Completed:
                http.Response.Headers[IdempotencyKeyHeader.ReplayedName] = "true";
                return claim.StatusCode is >= 200 and < 300
                    ? renderAnswer(claim.ResponseBody!)
                    : Results.Text(claim.ResponseBody, ProblemFactory.ContentType, statusCode: claim.StatusCode);
            case IdempotencyClaimStatus.Mismatch:
                throw new ApiProblemException(ProblemTypes.IdempotencyKeyMismatch,
                    $"The {IdempotencyKeyHeader.Name} was already used for a different request (another body or URL). Use a new key for a new request.");
            default:
                throw new ApiProblemException(ProblemTypes.IdempotencyKeyInProgress,
                    $"A request with this {IdempotencyKeyHeader.Name} is still in progress or settling. Send the same request again later to get its answer.",
                    InProgressRetryAfter);
        }
    }

    // Nothing moved: the refusal is the key's answer, so a retry is refused the same way, byte for byte.
    private static async Task<IResult> KeepRefusalAsync(HttpContext http, IIdempotencyStore store, string key, MoneyMovement movement,
        BankException refusal, JsonSerializerOptions json, ILogger logger)
    {
        var problem = ProblemFactory.Create(http, ProblemTypes.For(refusal.Code), refusal.Message);
        var body = JsonSerializer.Serialize(problem, json);
        logger.LogDebug("{Method} {Path} refused: {Code}: {Message}", http.Request.Method, http.Request.Path, refusal.Code, refusal.Message);
        try
        {
            await store.CompleteAsync(key, movement.Id, problem.Status!.Value, body, CancellationToken.None);
        }
        catch (Exception e)
        {
            // The claim's lease runs out instead; a retry then runs again and meets the same rule.
            logger.LogWarning(e, "Could not store the refusal of movement {MovementId} under its idempotency key", movement.Id);
        }
        return Results.Text(body, ProblemFactory.ContentType, statusCode: problem.Status);
    }

    private static async Task ReleaseAsync(IIdempotencyStore store, string key, MoneyMovement movement, ILogger logger)
    {
        try
        {
            await store.ReleaseAsync(key, movement.Id, CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not release the idempotency key of aborted movement {MovementId}; it frees itself when its lease runs out", movement.Id);
        }
    }

    // The store refuses a commit whose key is already completed (or held for another request).
    private static bool KeyAlreadyUsed(TransactionAbortedException aborted) => aborted.Reason == TransactionAbortReason.IdempotencyKeyUsed;
}
