using System.Net;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// A request (or ping) awaiting its answer. Its state decides the failure semantics: while
/// <c>Queued</c> the frame has not been written and can be abandoned (the write loop then skips it);
/// once <c>Written</c> the outcome of a failure is unknown. The two transitions race through one CAS, so a
/// frame is either written or reported as not delivered, never both.
/// </summary>
internal sealed class PendingRequest : TaskCompletionSource<ReadOnlyMemory<byte>>
{
    private const int Queued = 0;
    private const int Written = 1;
    private const int Abandoned = 2;

    private int _state;
    private CancellationTokenRegistration _cancellation;

    public PendingRequest(long id, long deadlineTicks)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Id = id;
        DeadlineTicks = deadlineTicks;
    }

    public long Id { get; }

    /// <summary>Deadline on the <see cref="Environment.TickCount64"/> clock.</summary>
    public long DeadlineTicks { get; }

    /// <summary>Called by the write loop just before copying the frame out. False: skip the frame.</summary>
    public bool TryMarkWritten() => Interlocked.CompareExchange(ref _state, Written, Queued) == Queued;

    /// <summary>True when the frame had not been written and now never will be.</summary>
    private bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Queued) == Queued;

    public void Succeed(ReadOnlyMemory<byte> response)
    {
        if (TrySetResult(response)) _cancellation.Unregister();
    }

    public void Fail(Exception error)
    {
        TryAbandon();
        if (TrySetException(error)) _cancellation.Unregister();
    }

    /// <summary>The connection closed: not delivered if still queued, outcome unknown if written.</summary>
    public void FailConnectionClosed(IPEndPoint peer, Exception reason)
    {
        Exception error = TryAbandon()
            ? new PeerUnreachableException(peer,
                $"The connection to {peer} closed before the request was sent; it was not delivered ({reason.Message}).", reason)
            : new ConnectionLostException(peer,
                $"The connection to {peer} was lost after the request was sent; it may have been delivered and processed ({reason.Message}).",
                reason);
        if (TrySetException(error)) _cancellation.Unregister();
    }

    public void TimeOut(IPEndPoint peer)
    {
        Exception error = TryAbandon()
            ? new RequestTimeoutException(peer, false,
                $"The request to {peer} reached its deadline before it could be sent; it was not delivered.")
            : new RequestTimeoutException(peer, true,
                $"The request to {peer} was not answered by its deadline; it may have been delivered and processed.");
        if (TrySetException(error)) _cancellation.Unregister();
    }

    public void Cancel(CancellationToken cancellationToken)
    {
        TryAbandon();
        if (TrySetCanceled(cancellationToken)) _cancellation.Unregister();
    }

    public void RegisterCancellation(CancellationToken cancellationToken, Action<object?, CancellationToken> callback, object? state)
    {
        _cancellation = cancellationToken.UnsafeRegister(callback, state);
        // Completed while registering: nothing will unregister it later.
        if (Task.IsCompleted) _cancellation.Unregister();
    }
}
