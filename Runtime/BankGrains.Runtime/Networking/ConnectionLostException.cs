using System.Net;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// Outcome unknown: the request frame was handed to the socket (so it may have been received and executed by
/// the peer), and then the connection broke — peer reset or closed it, a write or read failed, the peer
/// rejected a frame, or this side closed it (pool disposed, connection closed) — before the response arrived.
/// Raised as soon as the connection is known to be broken, not at the deadline.
/// The caller must NOT blindly retry a non-idempotent request. <see cref="TransportException.MayHaveBeenDelivered"/> is true.
/// </summary>
public sealed class ConnectionLostException : TransportException
{
    public ConnectionLostException(IPEndPoint? peer, string message, Exception? innerException = null)
        : base(message, peer, innerException)
    {
    }

    /// <summary>Always true.</summary>
    public override bool MayHaveBeenDelivered => true;
}
