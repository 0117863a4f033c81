using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// Outgoing connections of a silo or client: one multiplexed <see cref="PeerConnection"/> per remote endpoint,
/// opened on first use, shared by all callers, and replaced by a new one on the next request after it breaks.
/// <para>Connecting: each attempt is bounded by <see cref="TransportOptions.ConnectTimeout"/> and shared by all
/// callers waiting for that peer. After a failed attempt, requests to the peer fail at once with
/// <see cref="PeerUnreachableException"/> for <see cref="TransportOptions.ReconnectBackoff"/> (doubling per
/// consecutive failure up to <see cref="TransportOptions.MaxReconnectBackoff"/>) instead of reconnecting.</para>
/// <para>Failure semantics (what the caller may assume about delivery):</para>
/// <list type="bullet">
/// <item><see cref="PeerUnreachableException"/> (<c>MayHaveBeenDelivered</c> false): certainly not delivered —
/// connect refused or timed out, peer in backoff, or the connection failed while the frame was still in the
/// outgoing queue. Safe to retry here or elsewhere.</item>
/// <item><see cref="ConnectionLostException"/> (<c>MayHaveBeenDelivered</c> true): the frame was written to the
/// socket and the connection broke before the response — outcome unknown, must not be blindly retried. Raised as
/// soon as the break is seen (peer reset/EOF), for every written request on the connection.</item>
/// <item><see cref="RequestTimeoutException"/> (a <see cref="TimeoutException"/>): no answer by the deadline; its
/// <c>MayHaveBeenDelivered</c> is false if the request never left the queue (or never got a connection).</item>
/// <item><see cref="RemoteHandlerException"/>: delivered; the remote handler threw.</item>
/// <item><see cref="OperationCanceledException"/>: the caller's token fired (outcome unknown if already written).</item>
/// <item><see cref="ObjectDisposedException"/>: the pool was disposed before the call.</item>
/// </list>
/// </summary>
public sealed class ConnectionPool : IAsyncDisposable
{
    private readonly ConcurrentDictionary<IPEndPoint, PeerSlot> _peers = new();
    private readonly TransportOptions _options;
    private readonly ILogger _logger;
    private volatile bool _disposed;

    public ConnectionPool(TransportOptions? options = null, ILogger? logger = null)
    {
        _options = (options ?? new TransportOptions()).ValidatedCopy();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Sends a request to <paramref name="peer"/> and returns the response payload (a fresh array the caller owns).
    /// The transport reads <paramref name="payload"/> later on its write loop: hand the memory over, do not modify
    /// or reuse it. The deadline bounds connecting, waiting for room in the queue and waiting for the answer.
    /// See the class remarks for the exceptions.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The payload is larger than <see cref="TransportOptions.MaxFrameSize"/> allows.</exception>
    public Task<ReadOnlyMemory<byte>> SendRequestAsync(IPEndPoint peer, ReadOnlyMemory<byte> payload, DateTimeOffset deadline,
        CancellationToken cancellationToken = default)
    {
        CheckPayloadSize(payload);
        var slot = GetSlot(peer);
        return slot.OpenConnection is { } connection
            ? connection.SendRequestAsync(payload, deadline, cancellationToken)
            : ConnectAndSendAsync(slot, payload, deadline, cancellationToken);
    }

    /// <summary>
    /// Queues a one-way message to <paramref name="peer"/>; completes once it is in the outgoing queue (connecting
    /// and waiting for room up to <paramref name="deadline"/>). No delivery guarantee after that.
    /// </summary>
    public ValueTask SendOneWayAsync(IPEndPoint peer, ReadOnlyMemory<byte> payload, DateTimeOffset deadline,
        CancellationToken cancellationToken = default)
    {
        CheckPayloadSize(payload);
        var slot = GetSlot(peer);
        return slot.OpenConnection is { } connection
            ? connection.SendOneWayAsync(payload, deadline, cancellationToken)
            : ConnectAndSendOneWayAsync(slot, payload, deadline, cancellationToken);
    }

    /// <summary>
    /// Probes <paramref name="peer"/>: a ping frame answered by its listener without calling the handler. Returns
    /// the round-trip time (including connecting, if there was no connection). Fails like a request:
    /// <see cref="PeerUnreachableException"/>, <see cref="ConnectionLostException"/>, <see cref="RequestTimeoutException"/>.
    /// </summary>
    public async Task<TimeSpan> PingAsync(IPEndPoint peer, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var started = TimeProvider.System.GetTimestamp();
        var deadlineTicks = Environment.TickCount64 + (long)Math.Ceiling(Math.Max(0, timeout.TotalMilliseconds));
        var connection = await GetSlot(peer).GetAsync(deadlineTicks, cancellationToken).ConfigureAwait(false);
        var remaining = TimeSpan.FromMilliseconds(Math.Max(0, deadlineTicks - Environment.TickCount64));
        await connection.PingAsync(remaining, cancellationToken).ConfigureAwait(false);
        return TimeProvider.System.GetElapsedTime(started);
    }

    /// <summary>The open connection to <paramref name="peer"/>, connecting if there is none (for diagnostics and probes).</summary>
    public ValueTask<PeerConnection> GetConnectionAsync(IPEndPoint peer, DateTimeOffset deadline, CancellationToken cancellationToken = default) =>
        GetSlot(peer).GetAsync(PeerConnection.ToTicks(deadline), cancellationToken);

    /// <summary>
    /// Closes the connection to <paramref name="peer"/> now (for example when membership declares it dead): queued
    /// requests fail with <see cref="PeerUnreachableException"/>, written ones with <see cref="ConnectionLostException"/>.
    /// The next request reconnects. Returns false if there was no open connection.
    /// </summary>
    public bool CloseConnection(IPEndPoint peer, string reason)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return _peers.TryGetValue(peer, out var slot) && slot.Close(new IOException(reason));
    }

    /// <summary>
    /// Closes every connection. Pending requests fail at once: those still queued with
    /// <see cref="PeerUnreachableException"/>, those already written with <see cref="ConnectionLostException"/>,
    /// each with an inner <see cref="ObjectDisposedException"/>. Later calls throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        var reason = new ObjectDisposedException(nameof(ConnectionPool), "The connection pool was disposed.");
        await Task.WhenAll(_peers.Values.Select(slot => slot.DisposeAsync(reason))).ConfigureAwait(false);
    }

    private void CheckPayloadSize(ReadOnlyMemory<byte> payload)
    {
        var max = FrameCodec.MaxPayloadSize(_options.MaxFrameSize);
        if (payload.Length > max)
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length,
                $"The payload exceeds the maximum of {max} bytes (MaxFrameSize {_options.MaxFrameSize}).");
    }

    private PeerSlot GetSlot(IPEndPoint peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_peers.TryGetValue(peer, out var slot)) return slot;
        slot = _peers.GetOrAdd(peer, static (endpoint, pool) => new PeerSlot(endpoint, pool._options, pool._logger), this);
        // Disposed while adding: make sure the new slot is disposed too.
        if (_disposed) _ = slot.DisposeAsync(new ObjectDisposedException(nameof(ConnectionPool)));
        return slot;
    }

    private static async Task<ReadOnlyMemory<byte>> ConnectAndSendAsync(PeerSlot slot, ReadOnlyMemory<byte> payload,
        DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var connection = await slot.GetAsync(PeerConnection.ToTicks(deadline), cancellationToken).ConfigureAwait(false);
        return await connection.SendRequestAsync(payload, deadline, cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask ConnectAndSendOneWayAsync(PeerSlot slot, ReadOnlyMemory<byte> payload, DateTimeOffset deadline,
        CancellationToken cancellationToken)
    {
        var connection = await slot.GetAsync(PeerConnection.ToTicks(deadline), cancellationToken).ConfigureAwait(false);
        await connection.SendOneWayAsync(payload, deadline, cancellationToken).ConfigureAwait(false);
    }
}
