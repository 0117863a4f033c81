using System.Text.Json;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Cluster;
using BankGrains.Runtime.Persistence;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace BankGrains.Api.Problems;

/// <summary>
/// Turns every exception that escapes an endpoint into an RFC 9457 problem: banking rules into 4xx with
/// their <see cref="BankErrorCode"/>, runtime outcomes (timeouts, version conflicts) into 504/409/503, and
/// anything unexpected into a 500 that says nothing about the server's internals.
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

            case BadHttpRequestException badRequest:
            {
                var (type, status, detail) = RequestBodyErrors.Describe(context, badRequest, json.Value.SerializerOptions);
                logger.LogDebug("{Method} {Path} rejected ({Status}): {Detail}", context.Request.Method, context.Request.Path, status, detail);
                return ProblemFactory.Create(context, type, detail, status);
            }

            case GrainCallTimeoutException timeout:
                logger.LogWarning(timeout, "{Method} {Path} timed out waiting for a grain; the outcome is unknown", context.Request.Method, context.Request.Path);
                return ProblemFactory.Create(context, ProblemTypes.Timeout,
                    "The bank did not answer in time, so the outcome is unknown: the operation may or may not have been applied. " +
                    "Read the resource's current state before retrying; retry is safe only with the same request after checking it.");

            case InconsistentStateException conflict:
                logger.LogWarning(conflict, "{Method} {Path} lost a state version race", context.Request.Method, context.Request.Path);
                return ProblemFactory.Create(context, ProblemTypes.ConcurrencyConflict,
                    "The resource was changed by another request at the same moment, so this request was not applied. Read it again and retry.");

            case SiloUnavailableException unavailable:
                logger.LogWarning(unavailable, "{Method} {Path} failed: the silo stopped during the call", context.Request.Method, context.Request.Path);
                return ProblemFactory.Create(context, ProblemTypes.Unavailable,
                    "The service stopped while handling the request, so the outcome is unknown. Read the resource's current state before retrying the same request.");

            case CallOutcomeUnknownException unknown:
                logger.LogWarning(unknown, "{Method} {Path}: the silo running the call failed; the outcome is unknown", context.Request.Method, context.Request.Path);
                return ProblemFactory.Create(context, ProblemTypes.OutcomeUnknown,
                    "The silo running the operation failed after it was sent, so the outcome is unknown: it may or may not have been applied. " +
                    "Read the resource's current state before retrying the same request.");

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
}
