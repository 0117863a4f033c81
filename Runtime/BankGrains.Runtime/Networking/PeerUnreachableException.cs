using System.Net;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// The request was certainly NOT delivered: the connect was refused or timed out, the peer is inside its
/// reconnect backoff window after a failed connect, or the connection failed (or was closed, or the pool
/// disposed) while the frame was still in the outgoing queue, before any of it was written to the socket.
/// Safe to retry, on this peer or another. <see cref="TransportException.MayHaveBeenDelivered"/> is false.
/// </summary>
public sealed class PeerUnreachableException : TransportException
{
    public PeerUnreachableException(IPEndPoint? peer, string message, Exception? innerException = null)
        : base(message, peer, innerException)
    {
    }

    /// <summary>Always false.</summary>
    public override bool MayHaveBeenDelivered => false;
}
