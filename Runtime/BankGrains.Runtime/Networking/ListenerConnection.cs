using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// The listener's side of one accepted connection: runs the handler for each request and one-way frame
/// (concurrently, up to <see cref="TransportOptions.MaxConcurrentRequestsPerConnection"/>), answers pings
/// itself, and queues responses for the connection's single write loop.
/// </summary>
internal sealed class ListenerConnection : FramedConnection
{
    private readonly IRequestHandler _handler;
    private readonly Action<ListenerConnection> _onClosed;
    private readonly SemaphoreSlim _handlerSlots;
    private readonly int _maxPayload;

    public ListenerConnection(Socket socket, IRequestHandler handler, TransportOptions options, ILogger logger,
        Action<ListenerConnection> onClosed)
        : base(socket, socket.RemoteEndPoint as IPEndPoint, options, logger)
    {
        _handler = handler;
        _onClosed = onClosed;
        _handlerSlots = new SemaphoreSlim(options.MaxConcurrentRequestsPerConnection, options.MaxConcurrentRequestsPerConnection);
        _maxPayload = FrameCodec.MaxPayloadSize(options.MaxFrameSize);
    }

    public void Start() => StartLoops();

    private protected override ValueTask OnFrameReceivedAsync(FrameKind kind, long correlationId, ReadOnlySequence<byte> payload)
    {
        switch (kind)
        {
            case FrameKind.Request:
            case FrameKind.OneWay:
                if (_handlerSlots.Wait(0))
                {
                    Dispatch(kind, correlationId, payload);
                    return default;
                }

                // At the concurrency limit: stop reading until a handler finishes (back-pressure through TCP).
                return DispatchWhenSlotFreeAsync(kind, correlationId, payload);
            case FrameKind.Ping:
                TryEnqueue(new OutgoingFrame(FrameKind.Pong, correlationId, ReadOnlyMemory<byte>.Empty));
                return default;
            default:
                throw new InvalidDataException($"Unexpected frame kind {(byte)kind} from a client.");
        }
    }

    private protected override void OnClosed(Exception reason) => _onClosed(this);

    private async ValueTask DispatchWhenSlotFreeAsync(FrameKind kind, long correlationId, ReadOnlySequence<byte> payload)
    {
        await _handlerSlots.WaitAsync(ClosingToken).ConfigureAwait(false);
        Dispatch(kind, correlationId, payload);
    }

    /// <summary>Copies the payload into a pooled buffer and starts the handler. The caller holds a handler slot.</summary>
    private void Dispatch(FrameKind kind, long correlationId, ReadOnlySequence<byte> payload)
    {
        var length = (int)payload.Length;
        byte[]? buffer = null;
        ReadOnlyMemory<byte> request = ReadOnlyMemory<byte>.Empty;
        if (length > 0)
        {
            buffer = FrameBuffers.Rent(length);
            payload.CopyTo(buffer);
            request = new ReadOnlyMemory<byte>(buffer, 0, length);
        }

        ValueTask<ReadOnlyMemory<byte>> handling;
        try
        {
            handling = _handler.HandleAsync(request, ClosingToken);
        }
        catch (Exception error)
        {
            Finish(kind, correlationId, buffer, default, error);
            return;
        }

        if (handling.IsCompletedSuccessfully) Finish(kind, correlationId, buffer, handling.Result, null);
        else _ = AwaitHandlerAsync(kind, correlationId, buffer, handling);
    }

    private async Task AwaitHandlerAsync(FrameKind kind, long correlationId, byte[]? buffer, ValueTask<ReadOnlyMemory<byte>> handling)
    {
        ReadOnlyMemory<byte> response = default;
        Exception? error = null;
        try
        {
            response = await handling.ConfigureAwait(false);
        }
        catch (Exception failure)
        {
            error = failure;
        }

        Finish(kind, correlationId, buffer, response, error);
    }

    /// <summary>
    /// Frees the handler slot and queues the answer. <paramref name="buffer"/> (the request copy, which
    /// <paramref name="response"/> may be a slice of) is owned here until it is either returned now or handed to
    /// the write loop inside a successfully queued frame: exactly one of the two.
    /// </summary>
    private void Finish(FrameKind kind, long correlationId, byte[]? buffer, ReadOnlyMemory<byte> response, Exception? error)
    {
        _handlerSlots.Release();
        if (kind == FrameKind.OneWay || IsClosed)
        {
            if (error is not null && !IsClosed)
                Logger.LogDebug(error, "One-way handler for a frame from {Peer} failed", RemoteEndPoint);
            ReturnToPool(buffer);
            return;
        }

        if (error is null && response.Length <= _maxPayload)
        {
            // The write loop returns the buffer after copying the response out of it (or dropping the frame).
            if (!TryEnqueue(new OutgoingFrame(FrameKind.Response, correlationId, response, pooledBuffer: buffer))) ReturnToPool(buffer);
            return;
        }

        // Nothing below reads the request buffer.
        ReturnToPool(buffer);
        var message = error?.Message
                      ?? $"The response of {response.Length} bytes exceeds the maximum frame size of {Options.MaxFrameSize} bytes.";
        if (error is not null) Logger.LogDebug(error, "Handler for a request from {Peer} failed", RemoteEndPoint);
        var bytes = Encoding.UTF8.GetBytes(message);
        TryEnqueue(new OutgoingFrame(FrameKind.Error, correlationId, bytes.AsMemory(0, Math.Min(bytes.Length, _maxPayload))));
    }

    private static void ReturnToPool(byte[]? buffer)
    {
        if (buffer is not null) FrameBuffers.Return(buffer);
    }
}
