namespace BankGrains.Runtime.Persistence;

/// <summary>
/// A grain's state as a storage provider sees it. <see cref="ETag"/> is the stored version: every
/// write must present the version it read, and gets a new one back (compare-and-swap).
/// </summary>
public interface IGrainState<T>
{
    T State { get; set; }

    /// <summary>The version last read or written; null when no record has ever existed.</summary>
    string? ETag { get; set; }

    /// <summary>True when a live (not cleared) record exists in storage.</summary>
    bool RecordExists { get; set; }
}

public sealed class GrainState<T>(T state) : IGrainState<T>
{
    public T State { get; set; } = state;
    public string? ETag { get; set; }
    public bool RecordExists { get; set; }
}
