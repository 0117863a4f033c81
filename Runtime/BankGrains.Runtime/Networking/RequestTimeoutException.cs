using System.Net;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// The request was not answered by its deadline and has been forgotten (a late response is dropped).
/// <see cref="MayHaveBeenDelivered"/> tells whether it had been written to the socket: when false it was
/// still waiting to connect or in the outgoing queue and will never be sent (safe to retry); when true the
/// outcome is unknown (do not blindly retry).
/// </summary>
public sealed class RequestTimeoutException : TimeoutException
{
    public RequestTimeoutException(IPEndPoint? peer, bool mayHaveBeenDelivered, string message)
        : base(message)
    {
        Peer = peer;
        MayHaveBeenDelivered = mayHaveBeenDelivered;
    }

    /// <summary>The remote endpoint, when known.</summary>
    public IPEndPoint? Peer { get; }

    /// <summary>True when the request had been written to the socket before its deadline passed.</summary>
    public bool MayHaveBeenDelivered { get; }
}
