using System.Text.Json;
using BankGrains.Grains.Interfaces;

namespace BankGrains.Api.Problems;

/// <summary>
/// One kind of problem the API reports (RFC 9457 "problem type"): a stable camelCase <see cref="Code"/>,
/// the HTTP status it travels with, a title that is the same for every occurrence, and a description
/// served at <see cref="Type"/> (GET /problems/{slug}).
/// </summary>
public sealed record ProblemType(string Code, int Status, string Title, string Description)
{
    /// <summary>The code in kebab case, as used in the type URI: insufficientFunds → insufficient-funds.</summary>
    public string Slug { get; } = JsonNamingPolicy.KebabCaseLower.ConvertName(Code);

    /// <summary>The problem's "type" member: a relative URI that this API serves.</summary>
    public string Type => ProblemTypes.PathPrefix + Slug;
}

/// <summary>Every problem type the API can answer with, and how exceptions and status codes map onto them.</summary>
public static class ProblemTypes
{
    public const string PathPrefix = "/problems/";

    // Problems that do not come from a banking rule.
    public static readonly ProblemType ConcurrencyConflict = new("concurrencyConflict", StatusCodes.Status409Conflict,
        "Concurrent update",
        "Another request changed the same resource at the same moment, so this one was not applied. Nothing changed: read the resource again and retry.");

    public static readonly ProblemType Timeout = new("timeout", StatusCodes.Status504GatewayTimeout,
        "Outcome unknown (timeout)",
        "The operation did not answer in time. It may or may not have been applied. Read the resource's current state before retrying, " +
        "and retry only with the same request.");

    public static readonly ProblemType Unavailable = new("unavailable", StatusCodes.Status503ServiceUnavailable,
        "Service unavailable",
        "The silo serving the request stopped while it was in progress (for example during a shutdown). The operation may or may not have been applied: " +
        "read the resource's current state before retrying the same request.");

    public static readonly ProblemType OutcomeUnknown = new("outcomeUnknown", StatusCodes.Status502BadGateway,
        "Outcome unknown (silo or storage failure)",
        "The silo running the operation, or the database commit, failed after the operation was sent. It may or may not have been applied: " +
        "read the resource's current state before retrying, and retry only with the same request. For a money movement, 'transactionId' " +
        "names it (a transfer's outcome is at GET /transfers/{transferId}), and a retry with the same Idempotency-Key never applies it twice.");

    public static readonly ProblemType Internal = new("internal", StatusCodes.Status500InternalServerError,
        "Internal error",
        "The server failed unexpectedly. The error was logged under the response's traceId; report that value to the operators.");

    public static readonly ProblemType MethodNotAllowed = new("methodNotAllowed", StatusCodes.Status405MethodNotAllowed,
        "Method not allowed",
        "The resource exists but does not support this HTTP method; see the OpenAPI document at /openapi/v1.json.");

    public static readonly ProblemType UnsupportedMediaType = new("unsupportedMediaType", StatusCodes.Status415UnsupportedMediaType,
        "Unsupported media type",
        "Request bodies are JSON: send them with Content-Type: application/json.");

    public static readonly ProblemType RequestRejected = new("requestRejected", StatusCodes.Status400BadRequest,
        "Request rejected",
        "The HTTP request was refused before it reached the bank (for example a body that is too large); the status code says why.");

    public static readonly ProblemType TransactionAborted = new("transactionAborted", StatusCodes.Status409Conflict,
        "Transaction aborted",
        "The bank aborted the operation's transaction before it committed (for example it lost a race for an account with an older " +
        "transaction, or ran out of time). Nothing changed, and the operation is safe to retry: send the same request again, with the " +
        "same Idempotency-Key, after the Retry-After delay. 'reason' says why it aborted and 'transactionId' names it.");

    public static readonly ProblemType IdempotencyKeyMissing = new("idempotencyKeyMissing", StatusCodes.Status400BadRequest,
        "Idempotency-Key missing",
        "Requests that move money need an Idempotency-Key header: a unique value of 1 to 255 printable ASCII characters (a UUID is a good choice), " +
        "chosen by the client and sent again, unchanged, with every retry of the same request. Nothing changed.");

    public static readonly ProblemType IdempotencyKeyMismatch = new("idempotencyKeyMismatch", StatusCodes.Status422UnprocessableEntity,
        "Idempotency-Key reused",
        "The Idempotency-Key was already used for a different request (another body, or another URL). A key names exactly one request: " +
        "use a new key for a new request. Nothing changed.");

    public static readonly ProblemType IdempotencyKeyInProgress = new("idempotencyKeyInProgress", StatusCodes.Status409Conflict,
        "Request with this Idempotency-Key in progress",
        "A request with the same Idempotency-Key is still being processed, or its outcome is still being settled. This request was not run: " +
        "send it again after the Retry-After delay to get the original answer.");

    private static readonly Dictionary<BankErrorCode, ProblemType> ByBankCode =
        Enum.GetValues<BankErrorCode>().ToDictionary(code => code, Describe);

    /// <summary>All problem types, banking rules first.</summary>
    public static IReadOnlyList<ProblemType> All { get; } =
        [
            .. ByBankCode.Values, ConcurrencyConflict, TransactionAborted, Timeout, Unavailable, OutcomeUnknown, Internal, MethodNotAllowed,
            UnsupportedMediaType, RequestRejected, IdempotencyKeyMissing, IdempotencyKeyMismatch, IdempotencyKeyInProgress,
        ];

    private static readonly Dictionary<string, ProblemType> ByName = All
        .SelectMany(p => new[] { (Key: p.Slug, Problem: p), (Key: p.Code, Problem: p) })
        .DistinctBy(entry => entry.Key, StringComparer.OrdinalIgnoreCase)
        .ToDictionary(entry => entry.Key, entry => entry.Problem, StringComparer.OrdinalIgnoreCase);

    public static ProblemType For(BankErrorCode code) =>
        ByBankCode.TryGetValue(code, out var problem) ? problem : Describe(code);

    /// <summary>Finds a problem type by its slug ("insufficient-funds") or code ("insufficientFunds"), ignoring case.</summary>
    public static bool TryFind(string name, out ProblemType problem) => ByName.TryGetValue(name, out problem!);

    /// <summary>The problem type for a bare status code (unknown routes, wrong methods, requests refused by the server).</summary>
    public static ProblemType ForStatus(int status) => status switch
    {
        StatusCodes.Status400BadRequest => For(BankErrorCode.Validation),
        StatusCodes.Status404NotFound => For(BankErrorCode.NotFound),
        StatusCodes.Status405MethodNotAllowed => MethodNotAllowed,
        StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaType,
        StatusCodes.Status503ServiceUnavailable => Unavailable,
        StatusCodes.Status504GatewayTimeout => Timeout,
        >= 500 => Internal,
        _ => RequestRejected,
    };

    private static ProblemType Describe(BankErrorCode code)
    {
        var name = JsonNamingPolicy.CamelCase.ConvertName(code.ToString());
        return code switch
        {
            BankErrorCode.Validation => new(name, StatusCodes.Status400BadRequest, "Invalid request",
                "The request is malformed or a field is missing or out of range; 'detail' names the field. Nothing changed; fix the request before sending it again."),
            BankErrorCode.InvalidAmount => new(name, StatusCodes.Status400BadRequest, "Invalid amount",
                "An amount is not a decimal string such as \"100.00\", is not positive where it must be, or has more decimal places than its currency allows " +
                "(USD 2, JPY 0, BHD 3). Amounts are JSON strings, never JSON numbers. Nothing changed."),
            BankErrorCode.UnknownCurrency => new(name, StatusCodes.Status400BadRequest, "Unknown currency",
                "A currency is not an active upper-case ISO 4217 code that the bank supports, such as \"USD\". Nothing changed."),
            BankErrorCode.CurrencyMismatch => new(name, StatusCodes.Status422UnprocessableEntity, "Currency mismatch",
                "The amount's currency differs from the account's currency; the bank does not convert currencies implicitly. Nothing changed."),
            BankErrorCode.InsufficientFunds => new(name, StatusCodes.Status422UnprocessableEntity, "Insufficient funds",
                "The debit would take the balance below zero, or below the account's overdraft limit. Nothing changed."),
            BankErrorCode.KycRequired => new(name, StatusCodes.Status422UnprocessableEntity, "KYC level insufficient",
                "The customer's KYC level does not allow the operation: opening an account needs basic, an overdraft needs full. Nothing changed."),
            BankErrorCode.AccountFrozen => new(name, StatusCodes.Status409Conflict, "Account frozen",
                "The account is frozen and accepts no debits until it is unfrozen; credits are still accepted. Nothing changed."),
            BankErrorCode.AccountClosed => new(name, StatusCodes.Status409Conflict, "Account closed",
                "The account is closed and accepts no operations. Nothing changed."),
            BankErrorCode.AlreadyExists => new(name, StatusCodes.Status409Conflict, "Already exists",
                "The resource already exists. Nothing changed."),
            BankErrorCode.InvalidState => new(name, StatusCodes.Status409Conflict, "Invalid state",
                "The operation conflicts with the resource's current state. Nothing changed."),
            BankErrorCode.NotFound => new(name, StatusCodes.Status404NotFound, "Not found",
                "The customer, account or URL does not exist. Nothing changed."),
            // A code added to BankErrorCode later: a refused banking rule, until it gets its own entry here.
            _ => new(name, StatusCodes.Status422UnprocessableEntity, Sentence(code),
                "A banking rule refused the operation. Nothing changed."),
        };
    }

    // SomeNewCode → "Some new code".
    private static string Sentence(BankErrorCode code)
    {
        var words = JsonNamingPolicy.SnakeCaseLower.ConvertName(code.ToString()).Replace('_', ' ');
        return words.Length == 0 ? words : char.ToUpperInvariant(words[0]) + words[1..];
    }
}
