using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// Accepts transport connections on one endpoint and serves them: each request frame is handed to the
/// <see cref="IRequestHandler"/> and its result sent back as a response with the same correlation id (an exception
/// as an error frame carrying its message, which the caller sees as <see cref="RemoteHandlerException"/>);
/// one-way frames call the handler and send nothing back; pings are answered without the handler. Requests on a
/// connection are handled concurrently; each connection has a single writer. A frame larger than
/// <see cref="TransportOptions.MaxFrameSize"/> (or otherwise malformed) closes its connection with a logged error.
/// </summary>
public sealed class TransportListener : IAsyncDisposable
{
    private readonly IPEndPoint _endpoint;
    private readonly IRequestHandler _handler;
    private readonly TransportOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ListenerConnection, byte> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Socket? _socket;
    private IPEndPoint? _localEndPoint;
    private Task _acceptLoop = Task.CompletedTask;
    private Task? _stopped;
    private long _accepted;

    public TransportListener(IPEndPoint endpoint, IRequestHandler handler, TransportOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(handler);
        _endpoint = endpoint;
        _handler = handler;
        _options = (options ?? new TransportOptions()).ValidatedCopy();
        _logger = logger ?? NullLogger.Instance;
    }

    public TransportListener(IPEndPoint endpoint, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask<ReadOnlyMemory<byte>>> handler,
        TransportOptions? options = null, ILogger? logger = null)
        : this(endpoint, new DelegateRequestHandler(handler ?? throw new ArgumentNullException(nameof(handler))), options, logger)
    {
    }

    /// <summary>The bound endpoint (with the actual port when constructed with port 0). Available after <see cref="Start"/>.</summary>
    public IPEndPoint LocalEndPoint => _localEndPoint ?? throw new InvalidOperationException("The listener has not been started.");

    /// <summary>The bound port.</summary>
    public int Port => LocalEndPoint.Port;

    /// <summary>Connections currently open.</summary>
    public int ActiveConnections => _connections.Count;

    /// <summary>Connections accepted since start.</summary>
    public long AcceptedConnections => Interlocked.Read(ref _accepted);

    /// <summary>Binds, listens and starts accepting. Throws <see cref="SocketException"/> if the endpoint cannot be bound.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_stopped is not null) throw new ObjectDisposedException(nameof(TransportListener));
            if (_socket is not null) throw new InvalidOperationException("The listener is already started.");
            var socket = new Socket(_endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(_endpoint);
                socket.Listen(_options.ListenBacklog);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            _socket = socket;
            _localEndPoint = (IPEndPoint)socket.LocalEndPoint!;
            _acceptLoop = AcceptLoopAsync(socket);
        }

        _logger.LogInformation("Transport listening on {Endpoint}", _localEndPoint);
    }

    /// <summary>
    /// Stops accepting and closes every connection at once (handlers still running see their token cancelled and
    /// their results are dropped; clients see their written requests fail with <see cref="ConnectionLostException"/>).
    /// </summary>
    public Task StopAsync() => StopAsync(TimeSpan.Zero);

    /// <summary>
    /// Stops accepting; answers already queued are sent (for up to <paramref name="drain"/>) before each
    /// connection closes. Use it after the handler has stopped taking work, so no answer is dropped.
    /// </summary>
    public Task StopAsync(TimeSpan drain)
    {
        lock (_gate)
        {
            return _stopped ??= StopCoreAsync(drain);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task StopCoreAsync(TimeSpan drain)
    {
        await Task.Yield();
        _stopping.Cancel();
        _socket?.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        // The accept loop has ended, so every accepted connection is in the map (or already closed).
        var reason = new IOException("The listener stopped.");
        var connections = _connections.Keys.ToArray();
        if (drain > TimeSpan.Zero) await Task.WhenAll(connections.Select(c => c.CloseGracefullyAsync(reason, drain))).ConfigureAwait(false);
        foreach (var connection in connections) connection.Close(reason);
        await Task.WhenAll(connections.Select(connection => connection.Completion)).ConfigureAwait(false);
        if (_localEndPoint is not null) _logger.LogInformation("Transport on {Endpoint} stopped", _localEndPoint);
    }

    private async Task AcceptLoopAsync(Socket listenSocket)
    {
        await Task.Yield();
        while (!_stopping.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await listenSocket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException error)
            {
                // For example too many open files: keep serving the existing connections and try again shortly.
                _logger.LogWarning(error, "Accepting a connection on {Endpoint} failed", _localEndPoint);
                try
                {
                    await Task.Delay(50, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            try
            {
                accepted.NoDelay = _options.NoDelay;
                var connection = new ListenerConnection(accepted, _handler, _options, _logger, closed => _connections.TryRemove(closed, out _));
                _connections[connection] = 0;
                Interlocked.Increment(ref _accepted);
                connection.Start();
                _logger.LogDebug("Accepted a connection from {Peer}", connection.RemoteEndPoint);
            }
            catch (Exception error)
            {
                _logger.LogWarning(error, "Setting up an accepted connection on {Endpoint} failed", _localEndPoint);
                accepted.Dispose();
            }
        }
    }
}
