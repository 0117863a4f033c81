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

    /// <summary>An ArrayPool buffer to return once the frame has been copied out (or dropped).</summary>
    public byte[]? PooledBuffer { get; }

    /// <summary>Whether the frame holds a slot of <see cref="TransportOptions.MaxQueuedFrames"/>.</summary>
    public bool CountsAgainstQueueLimit { get; }
}
