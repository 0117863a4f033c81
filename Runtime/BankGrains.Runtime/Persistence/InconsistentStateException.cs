namespace BankGrains.Runtime.Persistence;

/// <summary>
/// A write or clear presented a version that is not the stored one: another activation (or a
/// stale copy of this one) wrote first. The write did not happen.
/// </summary>
public sealed class InconsistentStateException : Exception
{
    public InconsistentStateException(string message, string? storedETag, string? currentETag, Exception? inner = null)
        : base(message, inner)
    {
        StoredETag = storedETag;
        CurrentETag = currentETag;
    }

    /// <summary>The version found in storage, when the provider knows it.</summary>
    public string? StoredETag { get; }

    /// <summary>The version the caller presented.</summary>
    public string? CurrentETag { get; }
}
