namespace BankGrains.Api.Problems;

/// <summary>
/// A problem the API itself raises (not a banking rule): thrown from filters and endpoints, answered by
/// <see cref="ApiExceptionHandler"/> with <see cref="Type"/>, <see cref="Detail"/> and, when set, a Retry-After header.
/// </summary>
public sealed class ApiProblemException(ProblemType type, string detail, TimeSpan? retryAfter = null) : Exception(detail)
{
    public ProblemType Type { get; } = type;

    public string Detail { get; } = detail;

    public TimeSpan? RetryAfter { get; } = retryAfter;
}
