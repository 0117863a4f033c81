namespace BankGrains.Runtime.Networking;

/// <summary>An <see cref="IRequestHandler"/> over a delegate.</summary>
internal sealed class DelegateRequestHandler(Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask<ReadOnlyMemory<byte>>> handler)
    : IRequestHandler
{
    public ValueTask<ReadOnlyMemory<byte>> HandleAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        handler(payload, cancellationToken);
}
