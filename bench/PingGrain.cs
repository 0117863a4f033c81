using BankGrains.Runtime;

namespace BankGrains.Bench;

/// <summary>The smallest useful grain call: one int in, one int out, no state, no I/O.</summary>
public interface IPingGrain : IGrainWithIntegerKey
{
    Task<int> PingAsync(int x);
}

public sealed class PingGrain : Grain, IPingGrain
{
    public Task<int> PingAsync(int x) => Task.FromResult(x + 1);
}
