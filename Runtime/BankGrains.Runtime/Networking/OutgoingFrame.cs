namespace BankGrains.Runtime.Networking;

/// <summary>A frame waiting in a connection's outgoing queue.</summary>
internal readonly struct OutgoingFrame
{
    public OutgoingFrame(FrameKind kind, long correlationId, ReadOnlyMemory<byte> payload, PendingRequest? request = null,
        byte[]? pooledBuffer = null, bool countsAgainstQueueLimit = false)
    {
        Kind = kind;
        CorrelationId = correlationId;
        Payload = payload;
        Request = request;
        PooledBuffer = pooledBuffer;
        CountsAgainstQueueLimit = countsAgainstQueueLimit;
    }

    public FrameKind Kind { get; }
    public long CorrelationId { get; }
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>The caller waiting for the answer; the frame is skipped if the request was abandoned while queued.</summary>
    public PendingRequest? Request { get; }

    /// <summary>
    /// A <see cref="FrameBuffers"/> array owned by the frame (<see cref="Payload"/> may point into it). Whoever holds a
    /// queued frame owns it: the write loop returns it once the frame is copied out or dropped; the sender returns
    /// it when the frame could not be queued.
    /// </summary>
    public byte[]? PooledBuffer { get; }

    /// <summary>Whether the frame holds a slot of <see cref="TransportOptions.MaxQueuedFrames"/>.</summary>
    public bool CountsAgainstQueueLimit { get; }
}
