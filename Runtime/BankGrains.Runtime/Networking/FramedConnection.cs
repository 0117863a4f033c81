using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// Base of <see cref="PeerConnection"/> (and of the listener's accepted connections): one TCP connection carrying frames both ways: a read loop that parses frames off a <see cref="PipeReader"/>
/// and hands them to <see cref="OnFrameReceivedAsync"/>, and a single write loop that drains an outgoing queue
/// into a <see cref="PipeWriter"/>, copying every frame that is ready before it flushes (so many small frames
/// go out in one send). Nothing else writes to the socket.
/// </summary>
public abstract class FramedConnection
{
    /// <summary>Flush before the unflushed bytes grow past this, even if more frames are queued.</summary>
    private const int FlushThreshold = 64 * 1024;

    private readonly Socket _socket;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Channel<OutgoingFrame> _outgoing;
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _closeReason;
    private int _closed;
    private int _runningLoops;
    private int _queuedFrames;
    private readonly TaskCompletionSource _writeLoopEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private protected FramedConnection(Socket socket, IPEndPoint? remoteEndPoint, TransportOptions options, ILogger logger)
    {
        _socket = socket;
        RemoteEndPoint = remoteEndPoint;
        Options = options;
        Logger = logger;
        ClosingToken = _closing.Token;
        var stream = new NetworkStream(socket, ownsSocket: true);
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
        _outgoing = Channel.CreateUnbounded<OutgoingFrame>(new UnboundedChannelOptions
        {
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
    }

    public IPEndPoint? RemoteEndPoint { get; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Why the connection closed; null while open.</summary>
    public Exception? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>Completes when both loops have ended (after <see cref="Close"/>).</summary>
    public Task Completion => _completion.Task;

    /// <summary>Frames in the outgoing queue, not yet copied to the socket.</summary>
    public int QueuedFrames => Volatile.Read(ref _queuedFrames);

    private protected TransportOptions Options { get; }

    private protected ILogger Logger { get; }

    /// <summary>Cancelled when the connection closes.</summary>
    private protected CancellationToken ClosingToken { get; }

    private protected void StartLoops()
    {
        _runningLoops = 2;
        _ = ReadLoopAsync();
        _ = WriteLoopAsync();
    }

    /// <summary>False when the connection is closed (the frame was not queued; its owner must clean up).</summary>
    private protected bool TryEnqueue(in OutgoingFrame frame)
    {
        Interlocked.Increment(ref _queuedFrames);
        if (_outgoing.Writer.TryWrite(frame)) return true;
        Interlocked.Decrement(ref _queuedFrames);
        return false;
    }

    /// <summary>
    /// One frame from the peer. <paramref name="payload"/> is valid until the returned task completes (the read
    /// loop waits for it). Throw <see cref="InvalidDataException"/> for a protocol violation.
    /// </summary>
    private protected abstract ValueTask OnFrameReceivedAsync(FrameKind kind, long correlationId, ReadOnlySequence<byte> payload);

    /// <summary>The write loop took <paramref name="frame"/> off the queue (it is about to be written or skipped).</summary>
    private protected virtual void OnFrameDequeued(in OutgoingFrame frame)
    {
    }

    /// <summary>Runs once, inside <see cref="Close"/>, after the outgoing queue is closed to new frames.</summary>
    private protected abstract void OnClosed(Exception reason);

    /// <summary>
    /// Closes the connection at once (idempotent; the socket is closed), for example when membership declares the peer dead. No frame is
    /// written after this returns. On a <see cref="PeerConnection"/>, requests still queued fail with
    /// <see cref="PeerUnreachableException"/> and requests already written with <see cref="ConnectionLostException"/>,
    /// both carrying <paramref name="reason"/> as inner exception.
    /// </summary>
    public void Close(Exception reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        Volatile.Write(ref _closeReason, reason);
        _outgoing.Writer.TryComplete();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception)
        {
            // Already reset or closed by the peer; disposing is all that is left.
        }

        _socket.Dispose();
        try
        {
            _closing.Cancel();
        }
        catch (AggregateException error)
        {
            Logger.LogWarning(error, "A cancellation callback failed while closing the connection to {Peer}", RemoteEndPoint);
        }

        OnClosed(reason);
    }

    /// <summary>
    /// Closes after sending what is already queued: no new frame is accepted, the write loop drains the
    /// queue and flushes, then the connection closes. Bounded by <paramref name="timeout"/>; past it the
    /// connection is closed at once, as by <see cref="Close"/>.
    /// </summary>
    public async Task CloseGracefullyAsync(Exception reason, TimeSpan timeout)
    {
        if (IsClosed) return;
        _outgoing.Writer.TryComplete();
        try
        {
            await _writeLoopEnded.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Logger.LogWarning("Connection to {Peer} did not drain within {Timeout}; closing it", RemoteEndPoint, timeout);
        }
        Close(reason);
    }

    private async Task ReadLoopAsync()
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync(ClosingToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                bool midFrame;
                try
                {
                    while (FrameCodec.TryRead(ref buffer, Options.MaxFrameSize, out var kind, out var id, out var payload))
                    {
                        var dispatched = OnFrameReceivedAsync(kind, id, payload);
                        if (!dispatched.IsCompletedSuccessfully) await dispatched.ConfigureAwait(false);
                    }
                }
                finally
                {
                    // The buffer (and every payload sliced from it) is not to be touched after AdvanceTo.
                    midFrame = !buffer.IsEmpty;
                    _input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    failure = new IOException(midFrame
                        ? "The peer closed the connection in the middle of a frame."
                        : "The peer closed the connection.");
                    Logger.LogDebug("Connection to {Peer} closed by the peer", RemoteEndPoint);
                    break;
                }
            }
        }
        catch (InvalidDataException error)
        {
            failure = error;
            Logger.LogError(error, "Closing the connection to {Peer}: {Reason}", RemoteEndPoint, error.Message);
        }
        catch (Exception error)
        {
            failure = error;
            if (!IsClosed) Logger.LogInformation("Connection to {Peer} failed while reading: {Reason}", RemoteEndPoint, error.Message);
        }
        finally
        {
            Close(failure ?? new IOException("The connection closed."));
            await CompleteQuietlyAsync(_input.CompleteAsync()).ConfigureAwait(false);
            LoopEnded();
        }
    }

    private async Task WriteLoopAsync()
    {
        var queue = _outgoing.Reader;
        Exception? failure = null;
        try
        {
            while (await queue.WaitToReadAsync().ConfigureAwait(false))
            {
                var unflushed = 0;
                while (queue.TryRead(out var frame))
                {
                    Interlocked.Decrement(ref _queuedFrames);
                    OnFrameDequeued(frame);
                    // A request abandoned while queued (deadline, cancellation, close) is never written.
                    if (frame.Request is { } request && !request.TryMarkWritten())
                    {
                        ReturnBuffer(frame);
                        continue;
                    }

                    try
                    {
                        unflushed += FrameCodec.Write(_output, frame.Kind, frame.CorrelationId, frame.Payload.Span);
                    }
                    finally
                    {
                        ReturnBuffer(frame);
                    }

                    if (unflushed >= FlushThreshold)
                    {
                        unflushed = 0;
                        if ((await _output.FlushAsync(ClosingToken).ConfigureAwait(false)).IsCompleted) return;
                    }
                }

                if (unflushed > 0 && (await _output.FlushAsync(ClosingToken).ConfigureAwait(false)).IsCompleted) return;
            }
        }
        catch (Exception error)
        {
            failure = error;
            if (!IsClosed) Logger.LogInformation("Connection to {Peer} failed while writing: {Reason}", RemoteEndPoint, error.Message);
        }
        finally
        {
            Close(failure ?? new IOException("The connection closed."));
            // Frames still queued were never written: give back their buffers. Their requests were failed by OnClosed.
            // Drain until the queue is completed, not just until it looks empty: when another thread is inside Close,
            // the queue may still accept a frame until that thread completes it, and that frame's buffer would leak.
            while (await queue.WaitToReadAsync().ConfigureAwait(false))
            {
                while (queue.TryRead(out var frame))
                {
                    Interlocked.Decrement(ref _queuedFrames);
                    OnFrameDequeued(frame);
                    ReturnBuffer(frame);
                }
            }

            // The socket is closed already: completing cannot send anything; it may fail trying to flush leftovers.
            await CompleteQuietlyAsync(_output.CompleteAsync()).ConfigureAwait(false);
            _writeLoopEnded.TrySetResult();
            LoopEnded();
        }
    }

    private static async ValueTask CompleteQuietlyAsync(ValueTask completing)
    {
        try
        {
            await completing.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Completing a pipe over a closed socket may throw; the connection is gone either way.
        }
    }

    private static void ReturnBuffer(in OutgoingFrame frame)
    {
        if (frame.PooledBuffer is { } buffer) FrameBuffers.Return(buffer);
    }

    private void LoopEnded()
    {
        if (Interlocked.Decrement(ref _runningLoops) == 0) _completion.TrySetResult();
    }
}
