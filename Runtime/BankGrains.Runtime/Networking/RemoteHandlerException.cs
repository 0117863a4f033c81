using System.Net;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// The request was delivered and the remote handler threw (or its response could not be framed);
/// <see cref="Exception.Message"/> is the remote exception's message. Whether the handler had side effects
/// before it threw is up to the handler.
/// </summary>
public sealed class RemoteHandlerException : Exception
{
    public RemoteHandlerException(IPEndPoint? peer, string message)
        : base(message)
    {
        Peer = peer;
    }

    /// <summary>The remote endpoint, when known.</summary>
    public IPEndPoint? Peer { get; }
}
