namespace BankGrains.Runtime.Persistence;

/// <summary>
/// Asked before every grain-state write: may this process still write? A cluster silo answers from
/// its membership lease; a single silo always may.
/// </summary>
public interface IGrainWriteFence
{
    /// <summary>Returns when writing is allowed; throws when it is not.</summary>
    ValueTask EnsureCanWriteAsync();
}

internal sealed class OpenWriteFence : IGrainWriteFence
{
    public ValueTask EnsureCanWriteAsync() => ValueTask.CompletedTask;
}
