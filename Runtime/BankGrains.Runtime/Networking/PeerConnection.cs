using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// The client side of one multiplexed TCP connection to a peer's <see cref="TransportListener"/>. Any number of
/// callers send concurrently; each request gets a correlation id, waits in a bounded outgoing queue for the
/// single write loop, and is completed by the read loop when its response arrives (in any order).
/// Usually obtained from a <see cref="ConnectionPool"/>, which replaces it after it breaks; a closed connection
/// never reopens.
/// <para>Failure semantics of <see cref="SendRequestAsync"/>:</para>
/// <list type="bullet">
/// <item><see cref="PeerUnreachableException"/>: certainly not delivered — the connection was already closed, or
/// closed while the frame was still queued (never written to the socket). Safe to retry.</item>
/// <item><see cref="ConnectionLostException"/>: the frame was written to the socket and the connection broke
/// before the response; outcome unknown. Raised immediately when the break is detected (peer reset or EOF,
/// a failed write, a protocol violation, <see cref="DisposeAsync"/>), for every request written on the
/// connection — not at their deadlines. Do not retry blindly.</item>
/// <item><see cref="RequestTimeoutException"/> (a <see cref="TimeoutException"/>): no answer by the deadline;
/// <see cref="RequestTimeoutException.MayHaveBeenDelivered"/> says whether it had been written. Checked every
/// <see cref="TransportOptions.DeadlineCheckInterval"/>.</item>
/// <item><see cref="RemoteHandlerException"/>: delivered; the remote handler threw.</item>
/// <item><see cref="OperationCanceledException"/>: the caller's token fired. If the request had already been
/// written, its outcome is unknown.</item>
/// </list>
/// </summary>
public sealed class PeerConnection : FramedConnection, IAsyncDisposable
{
    private readonly ConcurrentDictionary<long, PendingRequest> _pending = new();
    private readonly SemaphoreSlim _queueSlots;
    private readonly Timer _deadlineTimer;
    private readonly IPEndPoint _peer;
    private readonly int _maxPayload;
    private long _lastCorrelationId;
    private int _checkingDeadlines;

    private PeerConnection(Socket socket, IPEndPoint peer, TransportOptions options, ILogger logger)
        : base(socket, peer, options, logger)
    {
        _peer = peer;
        _maxPayload = FrameCodec.MaxPayloadSize(options.MaxFrameSize);
        _queueSlots = new SemaphoreSlim(options.MaxQueuedFrames, options.MaxQueuedFrames);
        _deadlineTimer = new Timer(static state => ((PeerConnection)state!).CheckDeadlines(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>The peer this connection goes to.</summary>
    public IPEndPoint Peer => _peer;

    /// <summary>Requests and pings sent or queued and not yet answered, failed or timed out.</summary>
    public int PendingRequests => _pending.Count;

    /// <summary>
    /// Opens a connection, bounded by <see cref="TransportOptions.ConnectTimeout"/>.
    /// </summary>
    /// <exception cref="PeerUnreachableException">The connect was refused, failed or timed out.</exception>
    public static async Task<PeerConnection> ConnectAsync(IPEndPoint peer, TransportOptions? options = null, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var settings = (options ?? new TransportOptions()).ValidatedCopy();
        return await ConnectCoreAsync(peer, settings, logger ?? NullLogger.Instance, cancellationToken).ConfigureAwait(false);
    }

    internal static async Task<PeerConnection> ConnectCoreAsync(IPEndPoint peer, TransportOptions options, ILogger logger,
        CancellationToken cancellationToken)
    {
        var socket = new Socket(peer.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = options.NoDelay };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(peer, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new PeerUnreachableException(peer, $"Connecting to {peer} timed out after {options.ConnectTimeout.TotalMilliseconds:0} ms.");
        }
        catch (SocketException error)
        {
            socket.Dispose();
            throw new PeerUnreachableException(peer, $"Connecting to {peer} failed: {error.SocketErrorCode}.", error);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new PeerConnection(socket, peer, options, logger);
        // Armed before the loops start: a loop that fails at once disposes the timer, and Change would then throw.
        connection._deadlineTimer.Change(options.DeadlineCheckInterval, options.DeadlineCheckInterval);
        connection.StartLoops();
        logger.LogDebug("Connected to {Peer}", peer);
        return connection;
    }

    /// <summary>
    /// Sends <paramref name="payload"/> as a request and returns the response payload (a fresh array the caller
    /// owns). The transport reads <paramref name="payload"/> later, on its write loop: the caller hands the memory
    /// over and must not modify or reuse it. When the outgoing queue is full, the request waits for room up to its
    /// deadline. See the class remarks for the exceptions and what each says about delivery.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The payload is larger than the maximum frame size allows.</exception>
    public Task<ReadOnlyMemory<byte>> SendRequestAsync(ReadOnlyMemory<byte> payload, DateTimeOffset deadline,
        CancellationToken cancellationToken = default)
    {
        CheckPayloadSize(payload);
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<ReadOnlyMemory<byte>>(cancellationToken);
        if (IsClosed) return Task.FromException<ReadOnlyMemory<byte>>(NotSentBecauseClosed());
        var deadlineTicks = ToTicks(deadline);
        if (Environment.TickCount64 >= deadlineTicks)
            return Task.FromException<ReadOnlyMemory<byte>>(new RequestTimeoutException(_peer, false,
                $"The deadline of the request to {_peer} had passed before it was sent; it was not delivered."));

        var request = new PendingRequest(Interlocked.Increment(ref _lastCorrelationId), deadlineTicks);
        // Registered before it is queued: the response cannot beat the registration, and Close sees it.
        _pending[request.Id] = request;
        var frame = new OutgoingFrame(FrameKind.Request, request.Id, payload, request, countsAgainstQueueLimit: true);
        if (_queueSlots.Wait(0)) EnqueueOrFail(frame);
        else _ = EnqueueWhenRoomAsync(frame, cancellationToken);
        if (cancellationToken.CanBeCanceled)
            request.RegisterCancellation(cancellationToken, CancelRequest, Tuple.Create(this, request));
        return request.Task;
    }

    /// <summary>
    /// Queues <paramref name="payload"/> as a one-way message; completes once it is in the outgoing queue,
    /// waiting for room up to <paramref name="deadline"/>. Fire-and-forget: no delivery guarantee and no
    /// report if the connection breaks afterwards. The caller hands the memory over (see <see cref="SendRequestAsync"/>).
    /// </summary>
    /// <exception cref="PeerUnreachableException">The connection is closed; not sent.</exception>
    /// <exception cref="RequestTimeoutException">No room in the queue by the deadline; not sent.</exception>
    public ValueTask SendOneWayAsync(ReadOnlyMemory<byte> payload, DateTimeOffset deadline, CancellationToken cancellationToken = default)
    {
        CheckPayloadSize(payload);
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        if (IsClosed) return ValueTask.FromException(NotSentBecauseClosed());
        var frame = new OutgoingFrame(FrameKind.OneWay, Interlocked.Increment(ref _lastCorrelationId), payload, countsAgainstQueueLimit: true);
        if (_queueSlots.Wait(0))
        {
            if (TryEnqueue(frame)) return default;
            _queueSlots.Release();
            return ValueTask.FromException(NotSentBecauseClosed());
        }

        return SendOneWayWhenRoomAsync(frame, ToTicks(deadline), cancellationToken);
    }

    /// <summary>
    /// Round trip of a ping frame, answered by the listener itself (the handler is not called). Pings skip the
    /// queue limit but wait behind frames already queued.
    /// </summary>
    /// <exception cref="RequestTimeoutException">No pong within <paramref name="timeout"/>.</exception>
    /// <exception cref="PeerUnreachableException">The connection is closed.</exception>
    /// <exception cref="ConnectionLostException">The connection broke while the ping was out.</exception>
    public async Task<TimeSpan> PingAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (IsClosed) throw NotSentBecauseClosed();
        var started = Stopwatch.GetTimestamp();
        var request = new PendingRequest(Interlocked.Increment(ref _lastCorrelationId),
            Environment.TickCount64 + (long)Math.Ceiling(Math.Max(0, timeout.TotalMilliseconds)));
        _pending[request.Id] = request;
        var frame = new OutgoingFrame(FrameKind.Ping, request.Id, ReadOnlyMemory<byte>.Empty, request);
        if (!TryEnqueue(frame)) FailNotSent(request);
        if (cancellationToken.CanBeCanceled)
            request.RegisterCancellation(cancellationToken, CancelRequest, Tuple.Create(this, request));
        await request.Task.ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>
    /// Closes the connection: requests still queued fail with <see cref="PeerUnreachableException"/>, requests
    /// already written with <see cref="ConnectionLostException"/>, both with an inner <see cref="ObjectDisposedException"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Close(new ObjectDisposedException(nameof(PeerConnection), "The connection was closed by this side."));
        await Completion.ConfigureAwait(false);
    }

    private protected override ValueTask OnFrameReceivedAsync(FrameKind kind, long correlationId, ReadOnlySequence<byte> payload)
    {
        switch (kind)
        {
            case FrameKind.Response:
            case FrameKind.Pong:
                if (_pending.TryRemove(correlationId, out var answered))
                    answered.Succeed(payload.IsEmpty ? ReadOnlyMemory<byte>.Empty : payload.ToArray());
                break;
            case FrameKind.Error:
                if (_pending.TryRemove(correlationId, out var failed))
                    failed.Fail(new RemoteHandlerException(_peer, Encoding.UTF8.GetString(payload)));
                break;
            default:
                throw new InvalidDataException($"Unexpected frame kind {(byte)kind} from a listener.");
        }

        // Late answers (to requests that timed out or were cancelled) are dropped.
        return default;
    }

    private protected override void OnFrameDequeued(in OutgoingFrame frame)
    {
        if (frame.CountsAgainstQueueLimit) _queueSlots.Release();
    }

    private protected override void OnClosed(Exception reason)
    {
        _deadlineTimer.Dispose();
        // The queue no longer accepts frames, so nothing added to the map after this sweep can be written:
        // its sender sees TryEnqueue fail and reports it as not delivered.
        foreach (var entry in _pending)
        {
            if (_pending.TryRemove(entry)) entry.Value.FailConnectionClosed(_peer, reason);
        }
    }

    private static void CancelRequest(object? state, CancellationToken cancellationToken)
    {
        var (connection, request) = (Tuple<PeerConnection, PendingRequest>)state!;
        connection._pending.TryRemove(new KeyValuePair<long, PendingRequest>(request.Id, request));
        request.Cancel(cancellationToken);
    }

    private void EnqueueOrFail(in OutgoingFrame frame)
    {
        if (TryEnqueue(frame)) return;
        _queueSlots.Release();
        FailNotSent(frame.Request!);
    }

    private async Task EnqueueWhenRoomAsync(OutgoingFrame frame, CancellationToken cancellationToken)
    {
        var request = frame.Request!;
        bool acquired;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, ClosingToken);
            acquired = await _queueSlots.WaitAsync(Remaining(request.DeadlineTicks), linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _pending.TryRemove(new KeyValuePair<long, PendingRequest>(request.Id, request));
            if (cancellationToken.IsCancellationRequested) request.Cancel(cancellationToken);
            else FailNotSent(request);
            return;
        }

        if (!acquired)
        {
            if (_pending.TryRemove(new KeyValuePair<long, PendingRequest>(request.Id, request))) request.TimeOut(_peer);
            return;
        }

        if (request.Task.IsCompleted)
        {
            // Timed out, cancelled or failed while waiting for room.
            _queueSlots.Release();
            return;
        }

        EnqueueOrFail(frame);
    }

    private async ValueTask SendOneWayWhenRoomAsync(OutgoingFrame frame, long deadlineTicks, CancellationToken cancellationToken)
    {
        bool acquired;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, ClosingToken);
            acquired = await _queueSlots.WaitAsync(Remaining(deadlineTicks), linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw NotSentBecauseClosed();
        }

        if (!acquired)
            throw new RequestTimeoutException(_peer, false,
                $"The outgoing queue to {_peer} stayed full until the deadline; the one-way message was not sent.");
        if (TryEnqueue(frame)) return;
        _queueSlots.Release();
        throw NotSentBecauseClosed();
    }

    private void FailNotSent(PendingRequest request)
    {
        _pending.TryRemove(new KeyValuePair<long, PendingRequest>(request.Id, request));
        request.Fail(NotSentBecauseClosed());
    }

    private PeerUnreachableException NotSentBecauseClosed()
    {
        var reason = CloseReason;
        return new PeerUnreachableException(_peer,
            $"The connection to {_peer} is closed; the request was not sent ({reason?.Message ?? "closed"}).", reason);
    }

    private void CheckDeadlines()
    {
        if (Interlocked.Exchange(ref _checkingDeadlines, 1) != 0) return;
        try
        {
            if (_pending.IsEmpty) return;
            var now = Environment.TickCount64;
            foreach (var entry in _pending)
            {
                if (now >= entry.Value.DeadlineTicks && _pending.TryRemove(entry)) entry.Value.TimeOut(_peer);
            }
        }
        finally
        {
            Volatile.Write(ref _checkingDeadlines, 0);
        }
    }

    private void CheckPayloadSize(ReadOnlyMemory<byte> payload)
    {
        if (payload.Length > _maxPayload)
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length,
                $"The payload exceeds the maximum of {_maxPayload} bytes (MaxFrameSize {Options.MaxFrameSize}).");
    }

    private static TimeSpan Remaining(long deadlineTicks) =>
        TimeSpan.FromMilliseconds(Math.Clamp(deadlineTicks - Environment.TickCount64, 0, int.MaxValue));

    /// <summary>Converts a wall-clock deadline to the monotonic <see cref="Environment.TickCount64"/> clock.</summary>
    internal static long ToTicks(DateTimeOffset deadline)
    {
        var remaining = (deadline - DateTimeOffset.UtcNow).TotalMilliseconds;
        return Environment.TickCount64 + (long)Math.Ceiling(Math.Clamp(remaining, -1, int.MaxValue));
    }
}
