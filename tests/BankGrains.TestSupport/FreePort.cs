using System.Net;
using System.Net.Sockets;

namespace BankGrains.TestSupport;

/// <summary>Free TCP ports on 127.0.0.1, as the kernel hands them out for port 0.</summary>
public static class FreePort
{
    /// <summary>
    /// A port that was free a moment ago. Another process can still take it before the caller binds,
    /// so whoever starts a server on it should retry with a new port when the bind fails.
    /// </summary>
    public static int Next()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
