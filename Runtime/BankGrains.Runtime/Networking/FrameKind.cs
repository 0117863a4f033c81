namespace BankGrains.Runtime.Networking;

/// <summary>The kind byte of a transport frame (see <see cref="FrameCodec"/> for the layout).</summary>
public enum FrameKind : byte
{
    /// <summary>Client to listener: call the handler and answer with the same correlation id.</summary>
    Request = 1,

    /// <summary>Listener to client: the handler's result for the request with this correlation id.</summary>
    Response = 2,

    /// <summary>Client to listener: call the handler, send nothing back.</summary>
    OneWay = 3,

    /// <summary>Listener to client: the handler threw; the payload is the exception message in UTF-8.</summary>
    Error = 4,

    /// <summary>Client to listener: liveness probe with an empty payload, answered by the transport itself.</summary>
    Ping = 5,

    /// <summary>Listener to client: the answer to a <see cref="Ping"/>, with the same correlation id.</summary>
    Pong = 6,
}
