namespace BankGrains.Runtime;

/// <summary>A grain call did not complete within its deadline. The call may or may not have run.</summary>
public sealed class GrainCallTimeoutException(string message) : TimeoutException(message);

/// <summary>The grain could not be activated (its constructor, state read or OnActivateAsync failed).</summary>
public sealed class GrainActivationException(GrainId grainId, Exception inner)
    : Exception($"Activation of grain {grainId} failed: {inner.Message}", inner)
{
    public GrainId GrainId { get; } = grainId;
}

/// <summary>The silo that held the target activation stopped or was killed before the call completed.</summary>
public sealed class SiloUnavailableException(string message) : Exception(message);
