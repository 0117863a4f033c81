namespace BankGrains.Runtime.Networking;

/// <summary>
/// Settings of the TCP transport, for both ends (<see cref="TransportListener"/>, <see cref="PeerConnection"/>,
/// <see cref="ConnectionPool"/>). Both ends of a connection should use the same <see cref="MaxFrameSize"/>.
/// The transport copies the options when it is constructed; later changes have no effect on it.
/// </summary>
public sealed class TransportOptions
{
    /// <summary>16 MiB.</summary>
    public const int DefaultMaxFrameSize = 16 * 1024 * 1024;

    /// <summary>
    /// Largest accepted frame length (kind + correlation id + payload, i.e. payload + 9 bytes). A receiver that
    /// sees a larger frame logs an error and closes the connection; a sender refuses a larger payload up front
    /// with <see cref="ArgumentOutOfRangeException"/>. Default 16 MiB.
    /// </summary>
    public int MaxFrameSize { get; set; } = DefaultMaxFrameSize;

    /// <summary>Bound on one TCP connect attempt. Default 2 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// After a failed connect to a peer, further connects to it within this window fail at once with
    /// <see cref="PeerUnreachableException"/>. The window doubles with each consecutive failure up to
    /// <see cref="MaxReconnectBackoff"/> and resets after a successful connect. Default 100 ms.
    /// </summary>
    public TimeSpan ReconnectBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Upper bound of the reconnect backoff window. Default 1 s.</summary>
    public TimeSpan MaxReconnectBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Per outgoing connection: how many request and one-way frames may wait to be written to the socket.
    /// When the queue is full, senders wait (up to their deadline) for room. Pings do not count. Default 10,000.
    /// </summary>
    public int MaxQueuedFrames { get; set; } = 10_000;

    /// <summary>
    /// Per accepted connection: how many request and one-way handlers may run at once. At the limit the
    /// listener stops reading that connection (pings included) until a handler finishes, so a slow
    /// listener pushes back through TCP to the senders' queues. Beware of call chains that need another
    /// request on the same connection to finish: a limit they exhaust stalls them until their deadlines.
    /// Default 32,768.
    /// </summary>
    public int MaxConcurrentRequestsPerConnection { get; set; } = 32_768;

    /// <summary>TCP_NODELAY (Nagle off). Default true: frames are coalesced by the transport, not the kernel.</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>
    /// How often an outgoing connection looks for requests past their deadline. A request fails with
    /// <see cref="RequestTimeoutException"/> at most this long after its deadline. Default 25 ms.
    /// </summary>
    public TimeSpan DeadlineCheckInterval { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>Listen backlog of a <see cref="TransportListener"/>. Default 512.</summary>
    public int ListenBacklog { get; set; } = 512;

    internal TransportOptions ValidatedCopy()
    {
        if (MaxFrameSize <= FrameCodec.FrameOverhead)
            throw new ArgumentOutOfRangeException(nameof(MaxFrameSize), MaxFrameSize, $"Must exceed {FrameCodec.FrameOverhead}.");
        if (MaxFrameSize > int.MaxValue - FrameCodec.LengthPrefixSize)
            throw new ArgumentOutOfRangeException(nameof(MaxFrameSize), MaxFrameSize, "Too large.");
        if (ConnectTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, "Must be positive.");
        if (ReconnectBackoff < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ReconnectBackoff), ReconnectBackoff, "Must not be negative.");
        if (MaxReconnectBackoff < ReconnectBackoff)
            throw new ArgumentOutOfRangeException(nameof(MaxReconnectBackoff), MaxReconnectBackoff, "Must be at least ReconnectBackoff.");
        if (MaxQueuedFrames < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxQueuedFrames), MaxQueuedFrames, "Must be positive.");
        if (MaxConcurrentRequestsPerConnection < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentRequestsPerConnection), MaxConcurrentRequestsPerConnection, "Must be positive.");
        if (DeadlineCheckInterval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(DeadlineCheckInterval), DeadlineCheckInterval, "Must be positive.");
        if (ListenBacklog < 1)
            throw new ArgumentOutOfRangeException(nameof(ListenBacklog), ListenBacklog, "Must be positive.");
        return (TransportOptions)MemberwiseClone();
    }
}
