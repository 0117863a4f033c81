using System.Net;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// A request could not be completed because of the transport. The two concrete types differ in what the
/// caller may assume about delivery:
/// <list type="bullet">
/// <item><see cref="PeerUnreachableException"/> (<see cref="MayHaveBeenDelivered"/> = false): no byte of the
/// request reached the socket. Safe to retry, here or elsewhere.</item>
/// <item><see cref="ConnectionLostException"/> (<see cref="MayHaveBeenDelivered"/> = true): the request was
/// handed to the socket and the connection broke before the answer came. The peer may have received and
/// executed it. Never retry blindly: resolve the outcome first (for example by an idempotency key).</item>
/// </list>
/// Timeouts are <see cref="RequestTimeoutException"/> (a <see cref="TimeoutException"/>), which carries the
/// same property.
/// </summary>
public abstract class TransportException : Exception
{
    private protected TransportException(string message, IPEndPoint? peer, Exception? innerException)
        : base(message, innerException)
    {
        Peer = peer;
    }

    /// <summary>The remote endpoint, when known.</summary>
    public IPEndPoint? Peer { get; }

    /// <summary>
    /// False: the request certainly did not leave this process (safe to retry). True: it was written to the
    /// socket and may have been received and processed (outcome unknown; do not blindly retry).
    /// </summary>
    public abstract bool MayHaveBeenDelivered { get; }
}
