using System.Globalization;
using System.Text.Json;
using BankGrains.Api.Movements;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Cluster;
using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Transactions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace BankGrains.Api.Problems;

/// <summary>
/// Turns every exception that escapes an endpoint into an RFC 9457 problem: banking rules into 4xx with
/// their <see cref="BankErrorCode"/>, runtime outcomes (timeouts, version conflicts, aborted or in-doubt
/// transactions) into 504/409/503/502, and anything unexpected into a 500 that says nothing about the
/// server's internals. A problem about a money movement whose outcome is unknown names the movement
/// ("transactionId"; for a transfer also "transferId" and its URL), so the client can look it up.
/// </summary>
internal sealed class ApiExceptionHandler(
    IProblemDetailsService problemDetails,
    IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
    ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var problem = Describe(context, exception);
        context.Response.StatusCode = problem.Status!.Value;

        await problemDetails.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
        return true;
    }

    private ProblemDetails Describe(HttpContext context, Exception exception)
    {
        switch (exception)
        {
            case BankException bank:
                logger.LogDebug("{Method} {Path} refused: {Code}: {Message}", context.Request.Method, context.Request.Path, bank.Code, bank.Message);
                return ProblemFactory.Create(context, ProblemTypes.For(bank.Code), bank.Message);

            case ApiProblemException raised:
                logger.LogDebug("{Method} {Path} refused: {Code}: {Detail}", context.Request.Method, context.Request.Path, raised.Type.Code, raised.Detail);
                if (raised.RetryAfter is { } delay) SetRetryAfter(context, delay);
                return ProblemFactory.Create(context, raised.Type, raised.Detail);

            case BadHttpRequestException badRequest:
            {
                var (type, status, detail) = RequestBodyErrors.Describe(context, badRequest, json.Value.SerializerOptions);
                logger.LogDebug("{Method} {Path} rejected ({Status}): {Detail}", context.Request.Method, context.Request.Path, status, detail);
                return ProblemFactory.Create(context, type, detail, status);
            }

            case GrainCallTimeoutException timeout:
                logger.LogWarning(timeout, "{Method} {Path} timed out waiting for a grain; the outcome is unknown", context.Request.Method, context.Request.Path);
                return WithMovement(context, ProblemFactory.Create(context, ProblemTypes.Timeout,
                    "The bank did not answer in time, so the outcome is unknown: the operation may or may not have been applied. " +
                    "Read the resource's current state before retrying; retry is safe only with the same request after checking it."));

            case TransactionAbortedException aborted:
            {
                // Retryable by definition: nothing was written. The message names grains and silos, so it stays in the log.
                logger.LogInformation("{Method} {Path}: transaction {TransactionId} aborted ({Reason}): {Message}",
                    context.Request.Method, context.Request.Path, aborted.TransactionId, aborted.Reason, aborted.Message);
                var reason = JsonNamingPolicy.CamelCase.ConvertName(aborted.Reason.ToString());
                var problem = ProblemFactory.Create(context, ProblemTypes.TransactionAborted,
                    $"The operation's transaction was aborted ({reason}) before it committed, so nothing changed. " +
                    "It is safe to retry: send the same request again, with the same Idempotency-Key.");
                problem.Extensions["reason"] = reason;
                problem.Extensions["transactionId"] = aborted.TransactionId;
                SetRetryAfter(context, TimeSpan.FromSeconds(1));
                return problem;
            }

            case TransactionInDoubtException doubt:
                logger.LogError(doubt, "{Method} {Path}: transaction {TransactionId} is in doubt", context.Request.Method, context.Request.Path, doubt.TransactionId);
                return WithMovement(context, ProblemFactory.Create(context, ProblemTypes.OutcomeUnknown,
                    "The bank's storage failed while the operation was committing, so it may or may not have been applied; the bank settles it " +
                    "within seconds. Look it up by 'transactionId' (a transfer at its URL), or send the same request again with the same " +
                    "Idempotency-Key, which never applies it twice."), doubt.TransactionId);

            case InconsistentStateException conflict:
                logger.LogWarning(conflict, "{Method} {Path} lost a state version race", context.Request.Method, context.Request.Path);
                return ProblemFactory.Create(context, ProblemTypes.ConcurrencyConflict,
                    "The resource was changed by another request at the same moment, so this request was not applied. Read it again and retry.");

            case SiloUnavailableException unavailable:
                logger.LogWarning(unavailable, "{Method} {Path} failed: the silo stopped during the call", context.Request.Method, context.Request.Path);
                return WithMovement(context, ProblemFactory.Create(context, ProblemTypes.Unavailable,
                    "The service stopped while handling the request, so the outcome is unknown. Read the resource's current state before retrying the same request."));

            case CallOutcomeUnknownException unknown:
                logger.LogWarning(unknown, "{Method} {Path}: the silo running the call failed; the outcome is unknown", context.Request.Method, context.Request.Path);
                return WithMovement(context, ProblemFactory.Create(context, ProblemTypes.OutcomeUnknown,
                    "The silo running the operation failed after it was sent, so the outcome is unknown: it may or may not have been applied. " +
                    "Read the resource's current state before retrying the same request."));

            case GrainActivationException activation:
                // Activation (the state read) failed before the call ran: nothing was applied.
                logger.LogWarning(activation, "{Method} {Path} failed: grain {Grain} could not be activated", context.Request.Method, context.Request.Path, activation.GrainId);
                return ProblemFactory.Create(context, ProblemTypes.Unavailable,
                    "The bank could not load the resource (its storage may be unreachable); nothing was applied. Retry later.");

            default:
                logger.LogError(exception, "{Method} {Path} failed unexpectedly", context.Request.Method, context.Request.Path);
                return ProblemFactory.Create(context, ProblemTypes.Internal,
                    "The server failed unexpectedly. The error has been logged; quote this response's traceId when you report it.");
        }
    }

    /// <summary>Names the money movement the request started, if any, so a client can look up an unknown outcome.</summary>
    private static ProblemDetails WithMovement(HttpContext context, ProblemDetails problem, Guid? transactionId = null)
    {
        var movement = context.Features.Get<MoneyMovement>();
        var id = transactionId ?? movement?.Id;
        if (id is null) return problem;
        problem.Extensions["transactionId"] = id;
        // Only transfers have a resource of their own (GET /transfers/{id}); deposits show in the account's entries.
        if (movement is { StatusLink: { } link } && movement.Id == id)
        {
            problem.Extensions["transferId"] = id;
            problem.Extensions["transfer"] = link;
        }
        return problem;
    }

    private static void SetRetryAfter(HttpContext context, TimeSpan delay) =>
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
