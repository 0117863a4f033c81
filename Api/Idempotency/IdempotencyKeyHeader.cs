using BankGrains.Api.Problems;
using BankGrains.Grains.Interfaces;

namespace BankGrains.Api.Idempotency;

/// <summary>The Idempotency-Key request header (IETF draft-ietf-httpapi-idempotency-key-header) and the replay marker.</summary>
internal static class IdempotencyKeyHeader
{
    public const string Name = "Idempotency-Key";

    /// <summary>Set to "true" on a response that repeats the stored answer of an earlier request with the same key.</summary>
    public const string ReplayedName = "Idempotent-Replayed";

    public const int MaxLength = 255;

    /// <summary>The key: 1–255 printable ASCII characters. The draft's structured-field form ("…") is accepted and unquoted.</summary>
    public static string Read(HttpRequest request)
    {
        var values = request.Headers[Name];
        if (values.Count == 0)
            throw new ApiProblemException(ProblemTypes.IdempotencyKeyMissing,
                $"This request moves money, so it needs an {Name} header: a unique value such as a UUID, sent again unchanged with every retry.");
        if (values.Count > 1) throw Invalid($"Send exactly one {Name} header.");

        var key = values[0]!.Trim();
        if (key.Length >= 2 && key[0] == '"' && key[^1] == '"') key = key[1..^1];
        if (key.Length == 0)
            throw new ApiProblemException(ProblemTypes.IdempotencyKeyMissing, $"The {Name} header is empty: send a unique value such as a UUID.");
        if (key.Length > MaxLength) throw Invalid($"The {Name} header must be at most {MaxLength} characters; got {key.Length}.");
        if (key.Any(c => c is < (char)0x20 or > (char)0x7E)) throw Invalid($"The {Name} header must contain printable ASCII characters only.");
        return key;
    }

    private static ApiProblemException Invalid(string detail) => new(ProblemTypes.For(BankErrorCode.Validation), detail);
}
