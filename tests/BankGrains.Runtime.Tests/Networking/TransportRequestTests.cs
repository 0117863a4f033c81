using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using BankGrains.Runtime.Networking;
using Xunit;
using Xunit.Abstractions;
using static BankGrains.Runtime.Tests.Networking.TransportFixture;

namespace BankGrains.Runtime.Tests.Networking;

[Collection(TransportCollection.Name)]
public sealed class TransportRequestTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_request_gets_the_handler_response()
    {
        await using var listener = StartListener(Echo);
        await using var pool = new ConnectionPool();

        var response = await pool.SendRequestAsync(listener.LocalEndPoint, Bytes("hello"), Soon);
        var empty = await pool.SendRequestAsync(listener.LocalEndPoint, ReadOnlyMemory<byte>.Empty, Soon);

        Assert.NotEqual(0, listener.Port);
        Assert.Equal("echo:hello", Text(response));
        Assert.Equal("echo:", Text(empty));
    }

    [Fact]
    public async Task Ten_thousand_concurrent_requests_share_one_connection_and_each_gets_its_own_answer()
    {
        // Some answers are delayed, so responses come back out of order.
        await using var listener = StartListener(async (payload, ct) =>
        {
            var marker = BinaryPrimitives.ReadInt32LittleEndian(payload.Span);
            if (marker % 7 == 0) await Task.Delay(1 + marker % 5, ct);
            else if (marker % 3 == 0) await Task.Yield();
            var response = new byte[payload.Length + 1];
            payload.Span.CopyTo(response.AsSpan(1));
            response[0] = 0xAB;
            return response;
        });
        await using var pool = new ConnectionPool();
        const int count = 10_000;

        var calls = Enumerable.Range(0, count).Select(i =>
        {
            // A marker and a length that varies per request.
            var payload = new byte[4 + i % 50];
            BinaryPrimitives.WriteInt32LittleEndian(payload, i);
            payload.AsSpan(4).Fill((byte)i);
            return pool.SendRequestAsync(listener.LocalEndPoint, payload, Soon);
        }).ToArray();
        var responses = await Task.WhenAll(calls);

        for (var i = 0; i < count; i++)
        {
            var response = responses[i].Span;
            Assert.Equal(5 + i % 50, response.Length);
            Assert.Equal(0xAB, response[0]);
            Assert.Equal(i, BinaryPrimitives.ReadInt32LittleEndian(response[1..]));
            Assert.True(response[5..].IndexOfAnyExcept((byte)i) < 0);
        }

        Assert.Equal(1, listener.AcceptedConnections);
        var connection = await pool.GetConnectionAsync(listener.LocalEndPoint, Soon);
        Assert.Equal(0, connection.PendingRequests);
    }

    [Fact]
    public async Task A_handler_exception_reaches_the_caller_as_RemoteHandlerException_with_its_message()
    {
        await using var listener = StartListener(async (payload, ct) =>
        {
            switch (Text(payload))
            {
                case "sync": throw new InvalidOperationException("Insufficient funds: balance 10.00 USD");
                case "async":
                    await Task.Yield();
                    throw new ArgumentException("Unknown account ü");
                default: return payload.ToArray();
            }
        });
        await using var pool = new ConnectionPool();

        var sync = await Assert.ThrowsAsync<RemoteHandlerException>(() => pool.SendRequestAsync(listener.LocalEndPoint, Bytes("sync"), Soon));
        var async = await Assert.ThrowsAsync<RemoteHandlerException>(() => pool.SendRequestAsync(listener.LocalEndPoint, Bytes("async"), Soon));

        Assert.Equal("Insufficient funds: balance 10.00 USD", sync.Message);
        Assert.Equal("Unknown account ü", async.Message);
        Assert.Equal(listener.LocalEndPoint, sync.Peer);
        // The connection stays usable.
        Assert.Equal("ok", Text(await pool.SendRequestAsync(listener.LocalEndPoint, Bytes("ok"), Soon)));
        Assert.Equal(1, listener.AcceptedConnections);
    }

    [Fact]
    public async Task One_way_messages_call_the_handler_and_get_no_answer()
    {
        var received = Channel.CreateUnbounded<string>();
        await using var listener = StartListener((payload, ct) =>
        {
            received.Writer.TryWrite(Text(payload));
            return ValueTask.FromResult<ReadOnlyMemory<byte>>(payload.ToArray());
        });
        await using var pool = new ConnectionPool();

        for (var i = 0; i < 3; i++) await pool.SendOneWayAsync(listener.LocalEndPoint, Bytes($"note {i}"), Soon);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var notes = new List<string>();
        for (var i = 0; i < 3; i++) notes.Add(await received.Reader.ReadAsync(timeout.Token));
        Assert.Equal(["note 0", "note 1", "note 2"], notes);
        var connection = await pool.GetConnectionAsync(listener.LocalEndPoint, Soon);
        Assert.Equal(0, connection.PendingRequests);
        // A request after the one-way messages is answered by its own response, not confused with anything else.
        Assert.Equal("x", Text(await pool.SendRequestAsync(listener.LocalEndPoint, Bytes("x"), Soon)));
    }

    [Fact]
    public async Task Ping_is_answered_by_the_listener_without_calling_the_handler()
    {
        var handlerCalls = 0;
        await using var listener = StartListener((payload, ct) =>
        {
            Interlocked.Increment(ref handlerCalls);
            return ValueTask.FromResult(payload);
        });
        await using var pool = new ConnectionPool();

        var first = await pool.PingAsync(listener.LocalEndPoint, TimeSpan.FromSeconds(5));
        var second = await pool.PingAsync(listener.LocalEndPoint, TimeSpan.FromSeconds(5));

        Assert.True(first > TimeSpan.Zero && first < TimeSpan.FromSeconds(5));
        Assert.True(second > TimeSpan.Zero && second < TimeSpan.FromSeconds(1));
        Assert.Equal(0, handlerCalls);
    }

    [Fact]
    public async Task Cancelling_a_request_removes_it()
    {
        await using var listener = StartListener(async (payload, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return payload;
        });
        await using var pool = new ConnectionPool();
        using var cancel = new CancellationTokenSource();

        var call = pool.SendRequestAsync(listener.LocalEndPoint, Bytes("slow"), Soon, cancel.Token);
        var connection = await pool.GetConnectionAsync(listener.LocalEndPoint, Soon);
        Assert.True(await EventuallyAsync(() => connection.PendingRequests == 1));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(0, connection.PendingRequests);
    }

    [Fact]
    public async Task Senders_on_many_threads_reach_several_peers_over_one_connection_each()
    {
        await using var first = StartListener((payload, ct) => ValueTask.FromResult<ReadOnlyMemory<byte>>(Bytes("A" + Text(payload))));
        await using var second = StartListener((payload, ct) => ValueTask.FromResult<ReadOnlyMemory<byte>>(Bytes("B" + Text(payload))));
        await using var pool = new ConnectionPool();
        const int threads = 8;
        const int perThread = 500;
        var failures = new ConcurrentQueue<string>();

        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var batch = new List<(Task<ReadOnlyMemory<byte>> Call, string Expected)>();
            for (var i = 0; i < perThread; i++)
            {
                var toFirst = (i + t) % 2 == 0;
                var marker = $"{t}/{i}";
                batch.Add((pool.SendRequestAsync(toFirst ? first.LocalEndPoint : second.LocalEndPoint, Bytes(marker), Soon),
                    (toFirst ? "A" : "B") + marker));
                if (batch.Count == 50)
                {
                    Check(batch);
                    batch.Clear();
                }
            }

            Check(batch);
        })).ToList();
        workers.ForEach(worker => worker.Start());
        workers.ForEach(worker => Assert.True(worker.Join(TimeSpan.FromSeconds(20))));

        Assert.Empty(failures);
        Assert.Equal(1, first.AcceptedConnections);
        Assert.Equal(1, second.AcceptedConnections);

        void Check(List<(Task<ReadOnlyMemory<byte>> Call, string Expected)> batch)
        {
            foreach (var (call, expected) in batch)
            {
                var actual = Text(call.GetAwaiter().GetResult());
                if (actual != expected) failures.Enqueue($"{expected} != {actual}");
            }
        }
    }

    [Fact]
    public async Task Small_requests_flow_at_a_high_rate_on_loopback()
    {
        await using var listener = StartListener((payload, ct) => ValueTask.FromResult(payload));
        await using var pool = new ConnectionPool();
        var payload = new byte[64];
        await pool.SendRequestAsync(listener.LocalEndPoint, payload, Soon);
        const int callers = 256;
        var duration = TimeSpan.FromSeconds(1.5);
        long completed = 0;

        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
        {
            while (stopwatch.Elapsed < duration)
            {
                await pool.SendRequestAsync(listener.LocalEndPoint, payload, Soon);
                Interlocked.Increment(ref completed);
            }
        }));
        var rate = completed / stopwatch.Elapsed.TotalSeconds;

        output.WriteLine($"{completed} requests of 64 bytes in {stopwatch.Elapsed.TotalSeconds:0.00} s with {callers} concurrent callers: "
                         + $"{rate:0} requests/s on {Environment.ProcessorCount} cores");
        // A floor that only a pathology (such as a per-frame Nagle delay) would break.
        Assert.True(rate > 2_000, $"{rate:0} requests/s");
    }
}
