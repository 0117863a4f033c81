namespace BankGrains.Runtime.Networking;

/// <summary>What a <see cref="TransportListener"/> calls for each incoming request and one-way frame.</summary>
public interface IRequestHandler
{
    /// <summary>
    /// Handles one request (or one-way message, whose result is discarded).
    /// <para>
    /// <paramref name="payload"/> is pooled memory owned by the transport: it is valid until the returned task
    /// completes and must not be kept beyond that (copy what you need). Returning it, or a slice of it, as the
    /// response is allowed; the transport keeps it alive until the response is written. The returned memory
    /// must not change after it is returned: it is written to the socket later.
    /// </para>
    /// <para>
    /// Called on the connection's read loop: return promptly (go asynchronous for anything that waits) —
    /// synchronous blocking delays every other frame on the connection, pings included. Requests on one
    /// connection run concurrently. An exception (synchronous or from the task) reaches the caller as
    /// <see cref="RemoteHandlerException"/> with its message. <paramref name="cancellationToken"/> is
    /// cancelled when the connection closes or the listener stops.
    /// </para>
    /// </summary>
    ValueTask<ReadOnlyMemory<byte>> HandleAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}
