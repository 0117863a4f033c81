using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BankGrains.Runtime.Networking;
using BankGrains.TestSupport;
using Microsoft.Extensions.Logging;
using Xunit;
using static BankGrains.Runtime.Tests.Networking.TransportFixture;

namespace BankGrains.Runtime.Tests.Networking;

[Collection(TransportCollection.Name)]
public sealed class TransportFailureTests
{
    /// <summary>A handler that never answers (until its connection closes), counting the requests it got.</summary>
    private sealed class Blackhole
    {
        private int _received;

        public int Received => Volatile.Read(ref _received);

        public async ValueTask<ReadOnlyMemory<byte>> HandleAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _received);
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return payload.ToArray();
        }
    }

    [Fact]
    public async Task A_request_not_answered_by_its_deadline_times_out_and_is_forgotten()
    {
        var blackhole = new Blackhole();
        await using var listener = StartListener(blackhole.HandleAsync);
        await using var pool = new ConnectionPool();
        await pool.PingAsync(listener.LocalEndPoint, TimeSpan.FromSeconds(5));

        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RequestTimeoutException>(() =>
            pool.SendRequestAsync(listener.LocalEndPoint, Bytes("late"), In(TimeSpan.FromMilliseconds(300))));

        Assert.InRange(stopwatch.ElapsedMilliseconds, 280, 1_500);
        Assert.IsAssignableFrom<TimeoutException>(error);
        Assert.True(error.MayHaveBeenDelivered);
        Assert.Equal(1, blackhole.Received);
        var connection = await pool.GetConnectionAsync(listener.LocalEndPoint, Soon);
        Assert.Equal(0, connection.PendingRequests);
        Assert.False(connection.IsClosed);
    }

    [Fact]
    public async Task A_frame_over_the_maximum_size_closes_the_connection_and_fails_its_pending_requests()
    {
        var blackhole = new Blackhole();
        var log = new ListLogger();
        await using var listener = StartListener(blackhole.HandleAsync, new TransportOptions { MaxFrameSize = 64 * 1024 }, log);
        await using var pool = new ConnectionPool();
        var pending = pool.SendRequestAsync(listener.LocalEndPoint, Bytes("waiting"), Soon);
        Assert.True(await EventuallyAsync(() => blackhole.Received == 1));

        var stopwatch = Stopwatch.StartNew();
        var oversize = pool.SendRequestAsync(listener.LocalEndPoint, new byte[128 * 1024], Soon);

        var lost = await Assert.ThrowsAsync<ConnectionLostException>(() => pending);
        await Assert.ThrowsAsync<ConnectionLostException>(() => oversize);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"took {stopwatch.Elapsed}");
        Assert.True(lost.MayHaveBeenDelivered);
        Assert.Contains(log.Entries, entry => entry.Level == LogLevel.Error && entry.Message.Contains("exceeds the maximum frame size"));
        Assert.Equal(1, blackhole.Received);
        // The next request opens a new connection.
        await Assert.ThrowsAsync<RequestTimeoutException>(() =>
            pool.SendRequestAsync(listener.LocalEndPoint, Bytes("next"), In(TimeSpan.FromMilliseconds(100))));
        Assert.Equal(2, listener.AcceptedConnections);
        Assert.Equal(2, blackhole.Received);
    }

    [Fact]
    public async Task A_payload_over_the_senders_own_maximum_is_refused_before_sending()
    {
        await using var listener = StartListener(Echo);
        await using var pool = new ConnectionPool(new TransportOptions { MaxFrameSize = 1024 });

        // Thrown synchronously: a usage error, nothing was queued.
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = pool.SendRequestAsync(listener.LocalEndPoint, new byte[1024], Soon); });
        Assert.Equal("echo:fits", Text(await pool.SendRequestAsync(listener.LocalEndPoint, Bytes("fits"), Soon)));
    }

    [Fact]
    public async Task When_the_peer_dies_in_flight_requests_fail_fast_then_it_is_unreachable_then_reachable_again_after_restart()
    {
        var blackhole = new Blackhole();
        var options = new TransportOptions { ReconnectBackoff = TimeSpan.FromMilliseconds(200), MaxReconnectBackoff = TimeSpan.FromMilliseconds(200) };
        var listener = StartListener(blackhole.HandleAsync, port: FreePort.Next());
        var peer = listener.LocalEndPoint;
        await using var pool = new ConnectionPool(options);
        var deadline = In(TimeSpan.FromSeconds(30));
        var calls = Enumerable.Range(0, 100).Select(i => pool.SendRequestAsync(peer, Bytes($"transfer {i}"), deadline)).ToArray();
        Assert.True(await EventuallyAsync(() => blackhole.Received == 100));

        var stopwatch = Stopwatch.StartNew();
        await listener.StopAsync();
        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<ConnectionLostException>(() => call);
            Assert.True(error.MayHaveBeenDelivered);
            Assert.Equal(peer, error.Peer);
        }

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"failing took {stopwatch.Elapsed}");

        // Nothing listens on the port now: refused at once, certainly not delivered.
        stopwatch.Restart();
        var refused = await Assert.ThrowsAsync<PeerUnreachableException>(() => pool.SendRequestAsync(peer, Bytes("retry"), deadline));
        Assert.False(refused.MayHaveBeenDelivered);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"refusal took {stopwatch.Elapsed}");
        // Within the backoff window the pool does not even try.
        var backedOff = await Assert.ThrowsAsync<PeerUnreachableException>(() => pool.SendRequestAsync(peer, Bytes("again"), deadline));
        Assert.Contains("not retrying", backedOff.Message);
        await Assert.ThrowsAsync<PeerUnreachableException>(() => pool.PingAsync(peer, TimeSpan.FromSeconds(1)));

        // The peer comes back on the same port: after the backoff, requests succeed on a new connection.
        await using var restarted = StartListener(Echo, port: peer.Port);
        await Task.Delay(options.ReconnectBackoff + TimeSpan.FromMilliseconds(50));
        Assert.Equal("echo:after restart", Text(await pool.SendRequestAsync(peer, Bytes("after restart"), deadline)));
        Assert.Equal(1, restarted.AcceptedConnections);
    }

    [Fact]
    public async Task A_full_outgoing_queue_makes_senders_wait_instead_of_growing()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = 0;
        await using var listener = StartListener(async (payload, ct) =>
        {
            await gate.Task.WaitAsync(ct);
            Interlocked.Increment(ref handled);
            return ReadOnlyMemory<byte>.Empty;
        }, new TransportOptions { MaxConcurrentRequestsPerConnection = 2 });
        const int maxQueued = 4;
        var pool = new ConnectionPool(new TransportOptions { MaxQueuedFrames = maxQueued });
        var connection = await pool.GetConnectionAsync(listener.LocalEndPoint, Soon);
        var payload = new byte[256 * 1024];

        // The listener runs 2 handlers and stops reading; TCP buffers fill; then the queue; then senders wait.
        var sent = 0;
        ValueTask blocked = default;
        while (sent < 400)
        {
            var send = pool.SendOneWayAsync(listener.LocalEndPoint, payload, In(TimeSpan.FromSeconds(20)));
            if (!send.IsCompleted)
            {
                var pending = send.AsTask();
                if (await Task.WhenAny(pending, Task.Delay(300)) != pending)
                {
                    blocked = new ValueTask(pending);
                    break;
                }
            }

            sent++;
        }

        Assert.True(sent < 400, "the sender never had to wait");
        Assert.False(blocked.IsCompleted);
        Assert.InRange(connection.QueuedFrames, 0, maxQueued);

        // A request behind the full queue times out without having been sent...
        var timedOut = await Assert.ThrowsAsync<RequestTimeoutException>(() =>
            pool.SendRequestAsync(listener.LocalEndPoint, Bytes("queued"), In(TimeSpan.FromMilliseconds(200))));
        Assert.False(timedOut.MayHaveBeenDelivered);

        // ...while one with a longer deadline keeps waiting for room.
        var waiting = pool.SendRequestAsync(listener.LocalEndPoint, Bytes("waiting"), In(TimeSpan.FromSeconds(20)));
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);

        // Once the handlers run again, the blocked sender gets through and everything is delivered.
        gate.SetResult();
        await blocked.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await EventuallyAsync(() => Volatile.Read(ref handled) >= sent + 1, TimeSpan.FromSeconds(10)),
            $"handled {handled} of {sent + 1}");
        Assert.Equal(0, connection.QueuedFrames);
        Assert.Equal(ReadOnlyMemory<byte>.Empty.Length, (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Length);
        await pool.DisposeAsync();
    }

    [Fact]
    public async Task Closing_fails_queued_requests_as_not_delivered_and_written_ones_as_lost()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = 0;
        await using var listener = StartListener(async (payload, ct) =>
        {
            Interlocked.Increment(ref received);
            await gate.Task.WaitAsync(ct);
            return payload.ToArray();
        }, new TransportOptions { MaxConcurrentRequestsPerConnection = 1 });
        await using var pool = new ConnectionPool(new TransportOptions { MaxQueuedFrames = 1 });
        var connection = await pool.GetConnectionAsync(listener.LocalEndPoint, Soon);
        var big = new byte[1024 * 1024];
        // Written and being handled: the listener's only handler slot is taken.
        var written = pool.SendRequestAsync(listener.LocalEndPoint, Bytes("written"), Soon);
        Assert.True(await EventuallyAsync(() => Volatile.Read(ref received) == 1));

        // Fill the TCP buffers and the one-slot queue with one-way messages...
        var filled = false;
        for (var i = 0; i < 200 && !filled; i++)
        {
            var send = pool.SendOneWayAsync(listener.LocalEndPoint, big, Soon).AsTask();
            filled = await Task.WhenAny(send, Task.Delay(300)) != send;
        }

        Assert.True(filled, "the queue never filled");

        // ...so this request waits for room (never written), and the pool closes the connection.
        var queued = pool.SendRequestAsync(listener.LocalEndPoint, Bytes("never sent"), Soon);
        await Task.Delay(50);
        Assert.True(pool.CloseConnection(listener.LocalEndPoint, "peer declared dead"));

        var notSent = await Assert.ThrowsAsync<PeerUnreachableException>(() => queued);
        Assert.False(notSent.MayHaveBeenDelivered);
        var lost = await Assert.ThrowsAsync<ConnectionLostException>(() => written);
        Assert.True(lost.MayHaveBeenDelivered);
        Assert.Contains("peer declared dead", lost.Message);
        Assert.True(connection.IsClosed);
        Assert.Equal(1, Volatile.Read(ref received));
        gate.SetResult();
    }

    [Fact]
    public async Task Disposing_the_pool_fails_pending_requests_at_once()
    {
        var blackhole = new Blackhole();
        await using var listener = StartListener(blackhole.HandleAsync);
        var pool = new ConnectionPool();
        var calls = Enumerable.Range(0, 20).Select(i => pool.SendRequestAsync(listener.LocalEndPoint, Bytes($"{i}"), Soon)).ToArray();
        Assert.True(await EventuallyAsync(() => blackhole.Received == 20));

        var stopwatch = Stopwatch.StartNew();
        await pool.DisposeAsync();

        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<ConnectionLostException>(() => call);
            Assert.IsType<ObjectDisposedException>(error.InnerException);
        }

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"took {stopwatch.Elapsed}");
        Assert.Throws<ObjectDisposedException>(() => { _ = pool.SendRequestAsync(listener.LocalEndPoint, Bytes("late"), Soon); });
    }

    [Fact]
    public async Task A_port_with_nothing_listening_is_unreachable_at_once()
    {
        await using var pool = new ConnectionPool();
        var nobody = new IPEndPoint(IPAddress.Loopback, FreePort.Next());

        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PeerUnreachableException>(() => pool.SendRequestAsync(nobody, Bytes("hi"), Soon));

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"took {stopwatch.Elapsed}");
        Assert.False(error.MayHaveBeenDelivered);
        Assert.IsType<SocketException>(error.InnerException?.InnerException);
    }
}
