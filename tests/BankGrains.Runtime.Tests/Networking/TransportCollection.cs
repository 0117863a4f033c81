using Xunit;

namespace BankGrains.Runtime.Tests.Networking;

/// <summary>The transport tests measure latencies and throughput: they run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class TransportCollection
{
    public const string Name = "Transport";
}
