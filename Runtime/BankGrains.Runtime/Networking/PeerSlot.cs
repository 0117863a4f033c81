using System.Net;
using Microsoft.Extensions.Logging;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// A <see cref="ConnectionPool"/>'s state for one remote endpoint: the current connection, the connect in
/// progress (shared by everyone who needs it) and the reconnect backoff. The lock guards only field updates;
/// no await happens under it.
/// </summary>
internal sealed class PeerSlot
{
    private readonly IPEndPoint _peer;
    private readonly TransportOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private PeerConnection? _connection;
    private Task<(PeerConnection? Connection, Exception? Error)>? _connecting;
    private long _retryAfterTicks;
    private TimeSpan _backoff;
    private Exception? _lastConnectError;
    private bool _disposed;

    public PeerSlot(IPEndPoint peer, TransportOptions options, ILogger logger)
    {
        _peer = peer;
        _options = options;
        _logger = logger;
        _backoff = options.ReconnectBackoff;
    }

    /// <summary>The current connection if it is open; otherwise null.</summary>
    public PeerConnection? OpenConnection => Volatile.Read(ref _connection) is { IsClosed: false } connection ? connection : null;

    /// <summary>
    /// The open connection, or a new one. Fails with <see cref="PeerUnreachableException"/> when the connect fails
    /// or the peer is in its backoff window, with <see cref="RequestTimeoutException"/> (not delivered) when the
    /// deadline passes first, and with <see cref="ObjectDisposedException"/> once the pool is disposed.
    /// </summary>
    public ValueTask<PeerConnection> GetAsync(long deadlineTicks, CancellationToken cancellationToken) =>
        OpenConnection is { } open ? new ValueTask<PeerConnection>(open) : ConnectOrJoinAsync(deadlineTicks, cancellationToken);

    /// <summary>Closes the current connection (if any); the next request reconnects.</summary>
    public bool Close(Exception reason)
    {
        var connection = Volatile.Read(ref _connection);
        if (connection is null || connection.IsClosed) return false;
        connection.Close(reason);
        return true;
    }

    /// <summary>Marks the slot disposed and closes its connection; returns the connection's completion.</summary>
    public Task DisposeAsync(Exception reason)
    {
        PeerConnection? connection;
        lock (_gate)
        {
            _disposed = true;
            connection = _connection;
        }

        if (connection is null) return Task.CompletedTask;
        connection.Close(reason);
        return connection.Completion;
    }

    private async ValueTask<PeerConnection> ConnectOrJoinAsync(long deadlineTicks, CancellationToken cancellationToken)
    {
        Task<(PeerConnection? Connection, Exception? Error)> connecting;
        TaskCompletionSource<(PeerConnection?, Exception?)>? started = null;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, typeof(ConnectionPool));
            if (OpenConnection is { } open) return open;
            if (_connecting is null)
            {
                var now = Environment.TickCount64;
                if (now < _retryAfterTicks)
                {
                    throw new PeerUnreachableException(_peer,
                        $"Connecting to {_peer} failed recently ({_lastConnectError?.Message}); not retrying for another {_retryAfterTicks - now} ms. The request was not sent.",
                        _lastConnectError);
                }

                started = new TaskCompletionSource<(PeerConnection?, Exception?)>(TaskCreationOptions.RunContinuationsAsynchronously);
                _connecting = started.Task;
            }

            connecting = _connecting;
        }

        if (started is not null) _ = ConnectAsync(started);

        var remaining = deadlineTicks - Environment.TickCount64;
        (PeerConnection? Connection, Exception? Error) outcome;
        try
        {
            outcome = await connecting.WaitAsync(TimeSpan.FromMilliseconds(Math.Clamp(remaining, 0, int.MaxValue)), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new RequestTimeoutException(_peer, false,
                $"The deadline passed while connecting to {_peer}; the request was not sent.");
        }

        if (outcome.Connection is { } connection) return connection;
        if (outcome.Error is ObjectDisposedException disposed) throw new ObjectDisposedException(disposed.ObjectName, disposed.Message);
        throw new PeerUnreachableException(_peer, $"Could not connect to {_peer}: {outcome.Error?.Message} The request was not sent.", outcome.Error);
    }

    private async Task ConnectAsync(TaskCompletionSource<(PeerConnection?, Exception?)> started)
    {
        PeerConnection? connection = null;
        Exception? error = null;
        try
        {
            connection = await PeerConnection.ConnectCoreAsync(_peer, _options, _logger, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception failure)
        {
            error = failure;
        }

        var disposed = false;
        lock (_gate)
        {
            _connecting = null;
            if (_disposed)
            {
                disposed = true;
            }
            else if (connection is not null)
            {
                _connection = connection;
                _backoff = _options.ReconnectBackoff;
                _retryAfterTicks = 0;
                _lastConnectError = null;
            }
            else
            {
                _lastConnectError = error;
                _retryAfterTicks = Environment.TickCount64 + (long)_backoff.TotalMilliseconds;
                var doubled = TimeSpan.FromTicks(Math.Max(1, _backoff.Ticks) * 2);
                _backoff = doubled > _options.MaxReconnectBackoff ? _options.MaxReconnectBackoff : doubled;
            }
        }

        if (disposed)
        {
            if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
            started.SetResult((null, new ObjectDisposedException(nameof(ConnectionPool))));
            return;
        }

        started.SetResult((connection, error));
        if (error is not null)
            _logger.LogWarning("Connecting to {Peer} failed: {Reason}; backing off", _peer, error.Message);
    }
}
