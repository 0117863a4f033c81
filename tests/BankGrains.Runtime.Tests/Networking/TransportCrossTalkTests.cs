using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BankGrains.Runtime.Networking;
using Xunit;
using Xunit.Abstractions;
using static BankGrains.Runtime.Tests.Networking.TransportFixture;

namespace BankGrains.Runtime.Tests.Networking;

/// <summary>
/// Cross-talk hunt: several pools and listeners in parallel, thousands of requests with unique self-checking
/// payloads (small to megabytes), mixed with one-way messages, pings, handler exceptions, deadlines,
/// cancellations, connections closed mid-flight, listener restarts and a pool disposed mid-run. Whatever else
/// happens, a response is the echo of its own request and nothing else, and the transport's pooled buffers are
/// rented and returned exactly once (<see cref="FrameBuffers.EnableAudit"/> poisons returned buffers, so a read
/// after the return shows up as wrong bytes).
/// </summary>
[Collection(TransportCollection.Name)]
public sealed class TransportCrossTalkTests(ITestOutputHelper output)
{
    private enum Op
    {
        EchoSame = 1, // the handler answers with the pooled request memory itself
        EchoSlice = 2, // ...with a slice of it
        EchoAfterYield = 3, // ...after going asynchronous
        ThrowSync = 4,
        ThrowAsync = 5,
        Slow = 6, // answers after a delay, usually past a short deadline
        OneWay = 7,
    }

    /// <summary>[int64 id][int32 op][int32 total length][pattern derived from the id].</summary>
    private const int HeaderSize = 16;

    /// <summary>The chaos phase lasts at least this long, and until <see cref="TargetAnswered"/> requests were answered...</summary>
    private static readonly TimeSpan MinChaos = TimeSpan.FromSeconds(2);

    /// <summary>...but no longer than this (a slow or busy machine answers fewer).</summary>
    private static readonly TimeSpan MaxChaos = TimeSpan.FromSeconds(6);

    private const int TargetAnswered = 2_000;

    private readonly ConcurrentQueue<string> _problems = new();
    private long _oneWaysHandled;
    private long _answered;

    [Fact]
    public async Task Under_load_and_failures_every_response_is_the_echo_of_its_own_request()
    {
        var audit = FrameBuffers.EnableAudit();
        var rentsBefore = audit.Rents;
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var clientOptions = new TransportOptions
        {
            ReconnectBackoff = TimeSpan.FromMilliseconds(5),
            MaxReconnectBackoff = TimeSpan.FromMilliseconds(20),
            DeadlineCheckInterval = TimeSpan.FromMilliseconds(5),
        };
        var listeners = new TransportListener[3];
        var endpoints = new IPEndPoint[listeners.Length];
        for (var i = 0; i < listeners.Length; i++)
        {
            listeners[i] = StartListener(Handle);
            endpoints[i] = listeners[i].LocalEndPoint;
        }

        var pools = Enumerable.Range(0, 4).Select(_ => new ConnectionPool(clientOptions)).ToArray();
        var doomed = pools[^1];
        var counts = new ConcurrentDictionary<string, int>();
        var stopwatch = Stopwatch.StartNew();
        try
        {
            using var stop = new CancellationTokenSource(MaxChaos);
            var workers = Enumerable.Range(0, 8).Select(w => Task.Run(() => WorkAsync(seed + w, stop.Token))).ToList();
            workers.AddRange(Enumerable.Range(0, 2).Select(c => Task.Run(() => CanaryAsync(seed - c - 1, stop.Token))));
            var chaos = Task.Run(() => ChaosAsync(seed - 100, stop.Token));
            while (!stop.IsCancellationRequested && (stopwatch.Elapsed < MinChaos || Interlocked.Read(ref _answered) < TargetAnswered))
                await Task.Delay(20);
            await stop.CancelAsync();
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30));
            await chaos.WaitAsync(TimeSpan.FromSeconds(30));

            // Calm again: every surviving pool reaches every listener, and each answer is its own.
            await Task.Delay(50);
            var calm = new Random(seed);
            var checks = new List<Task>();
            long id = 1L << 40;
            foreach (var pool in pools[..^1])
            {
                for (var l = 0; l < endpoints.Length; l++)
                {
                    for (var n = 0; n < 100; n++)
                    {
                        var op = (Op)(1 + n % 3);
                        var request = NewPayload(++id, op, PickLength(calm));
                        checks.Add(CalmCallAsync(pool, Volatile.Read(ref endpoints[l]), request, op));
                    }
                }
            }

            await Task.WhenAll(checks).WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            foreach (var pool in pools) await pool.DisposeAsync();
            for (var i = 0; i < listeners.Length; i++) await Volatile.Read(ref listeners[i]).DisposeAsync();
        }

        output.WriteLine($"{stopwatch.Elapsed.TotalSeconds:0.00} s; {Interlocked.Read(ref _answered)} answered under chaos; "
                         + $"{audit.Rents - rentsBefore} buffers rented; one-way handled {Interlocked.Read(ref _oneWaysHandled)}");
        foreach (var (outcome, count) in counts.OrderBy(entry => entry.Key)) output.WriteLine($"{outcome}: {count}");
        foreach (var problem in _problems.Take(20)) output.WriteLine(problem);

        Assert.Empty(_problems);
        Assert.Empty(audit.Violations);
        Assert.True(audit.Rents > rentsBefore, "no pooled buffer was used");
        // Sanity floors only (the numbers depend on the machine): the mix did run.
        foreach (var op in new[] { Op.EchoSame, Op.EchoSlice, Op.EchoAfterYield })
            Assert.True(counts.GetValueOrDefault($"ok {op}") >= 20, $"only {counts.GetValueOrDefault($"ok {op}")} {op} answered");
        Assert.True(counts.GetValueOrDefault($"remote error {Op.ThrowSync}") + counts.GetValueOrDefault($"remote error {Op.ThrowAsync}") >= 20);
        Assert.True(Interlocked.Read(ref _oneWaysHandled) >= 10);
        Assert.Equal(900, counts.GetValueOrDefault("calm ok"));

        async Task WorkAsync(int workerSeed, CancellationToken stopping)
        {
            var random = new Random(workerSeed);
            long next = (long)workerSeed << 24;
            while (!stopping.IsCancellationRequested)
            {
                var batch = new List<Task>();
                for (var n = 0; n < 8; n++)
                {
                    var pool = pools[random.Next(pools.Length)];
                    var endpoint = Volatile.Read(ref endpoints[random.Next(endpoints.Length)]);
                    var op = (Op)random.Next(1, 8);
                    var payload = NewPayload(++next, op, PickLength(random));
                    batch.Add(op == Op.OneWay
                        ? OneWayAsync(pool, endpoint, payload)
                        : CallAsync(pool, endpoint, payload, op, random.Next(100) < 5 ? random.Next(1, 30) : -1));
                }

                if (random.Next(20) == 0) batch.Add(PingAsync(pools[random.Next(pools.Length)], Volatile.Read(ref endpoints[random.Next(endpoints.Length)])));
                await Task.WhenAll(batch);
            }
        }

        async Task CallAsync(ConnectionPool pool, IPEndPoint endpoint, byte[] request, Op op, int cancelAfterMs)
        {
            var deadline = op == Op.Slow ? In(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 60))) : In(TimeSpan.FromSeconds(10));
            using var cancel = new CancellationTokenSource();
            if (cancelAfterMs > 0) cancel.CancelAfter(cancelAfterMs);
            var id = BinaryPrimitives.ReadInt64LittleEndian(request);
            try
            {
                var response = await pool.SendRequestAsync(endpoint, request, deadline, cancel.Token);
                if (op is Op.ThrowSync or Op.ThrowAsync)
                {
                    Problem($"request {id} ({op}) got an answer instead of an error: {Describe(response.Span)}");
                    return;
                }

                Check(request, op, response);
                Count($"ok {op}");
                Interlocked.Increment(ref _answered);
            }
            catch (RemoteHandlerException error)
            {
                if (op is not (Op.ThrowSync or Op.ThrowAsync) || error.Message != $"boom {id}")
                    Problem($"request {id} ({op}) failed remotely with \"{error.Message}\"");
                else Count($"remote error {op}");
            }
            catch (Exception error) when (IsExpectedFailure(error, pool, cancel.Token))
            {
                Count(error.GetType().Name);
            }
            catch (Exception error)
            {
                Problem($"request {id} ({op}): unexpected {error}");
            }
        }

        async Task CalmCallAsync(ConnectionPool pool, IPEndPoint endpoint, byte[] request, Op op)
        {
            var id = BinaryPrimitives.ReadInt64LittleEndian(request);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    Check(request, op, await pool.SendRequestAsync(endpoint, request, In(TimeSpan.FromSeconds(10))));
                    Count("calm ok");
                    return;
                }
                catch (PeerUnreachableException) when (attempt < 20)
                {
                    // Not delivered (a reconnect backoff window, or a connection closed at the very end of the chaos).
                    await Task.Delay(20);
                }
                catch (Exception error)
                {
                    Problem($"calm request {id} ({op}) failed: {error}");
                    return;
                }
            }
        }

        async Task OneWayAsync(ConnectionPool pool, IPEndPoint endpoint, byte[] payload)
        {
            try
            {
                await pool.SendOneWayAsync(endpoint, payload, In(TimeSpan.FromSeconds(10)));
                Count("one-way queued");
            }
            catch (Exception error) when (IsExpectedFailure(error, pool, CancellationToken.None))
            {
                Count("one-way " + error.GetType().Name);
            }
            catch (Exception error)
            {
                Problem($"one-way: unexpected {error}");
            }
        }

        async Task PingAsync(ConnectionPool pool, IPEndPoint endpoint)
        {
            try
            {
                await pool.PingAsync(endpoint, TimeSpan.FromSeconds(5));
                Count("ping ok");
            }
            catch (Exception error) when (IsExpectedFailure(error, pool, CancellationToken.None))
            {
                Count("ping " + error.GetType().Name);
            }
            catch (Exception error)
            {
                Problem($"ping: unexpected {error}");
            }
        }

        async Task ChaosAsync(int chaosSeed, CancellationToken stopping)
        {
            var random = new Random(chaosSeed);
            var disposedDoomed = false;
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(random.Next(5, 40), stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                if (!disposedDoomed && stopwatch.Elapsed > MinChaos / 2)
                {
                    disposedDoomed = true;
                    await doomed.DisposeAsync();
                    Count("chaos: pool disposed");
                    continue;
                }

                var target = random.Next(endpoints.Length);
                if (random.Next(12) > 0)
                {
                    if (pools[random.Next(pools.Length)].CloseConnection(Volatile.Read(ref endpoints[target]), "chaos")) Count("chaos: connection closed");
                    continue;
                }

                // Stop a listener (in-flight requests are lost) and start it again, on the same port if possible.
                await Volatile.Read(ref listeners[target]).StopAsync();
                await Task.Delay(random.Next(0, 20));
                var restarted = RestartListener(Volatile.Read(ref endpoints[target]).Port);
                Volatile.Write(ref listeners[target], restarted);
                Volatile.Write(ref endpoints[target], restarted.LocalEndPoint);
                Count("chaos: listener restarted");
            }
        }

        bool IsExpectedFailure(Exception error, ConnectionPool pool, CancellationToken cancellation) => error switch
        {
            PeerUnreachableException or ConnectionLostException or RequestTimeoutException => true,
            OperationCanceledException => cancellation.IsCancellationRequested,
            ObjectDisposedException => pool == doomed,
            _ => false,
        };

        void Count(string outcome) => counts.AddOrUpdate(outcome, 1, (_, count) => count + 1);
    }

    /// <summary>
    /// Rents from the shared pool like everyone else in the process, fills what it got with its own pattern and
    /// checks nobody wrote into it before it gives it back: a buffer returned twice would have a second writer.
    /// </summary>
    private async Task CanaryAsync(int seed, CancellationToken stopping)
    {
        var random = new Random(seed);
        var round = 0;
        while (!stopping.IsCancellationRequested)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(PickLength(random));
            var mark = (byte)(++round | 1);
            buffer.AsSpan().Fill(mark);
            await Task.Delay(random.Next(0, 3));
            var spoiled = buffer.AsSpan().IndexOfAnyExcept(mark);
            if (spoiled >= 0) Problem($"canary: someone wrote 0x{buffer[spoiled]:X2} at {spoiled} of a {buffer.Length}-byte array this test had rented");
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private ValueTask<ReadOnlyMemory<byte>> Handle(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (!Intact(payload.Span))
        {
            Problem($"listener got a damaged payload: {Describe(payload.Span)}");
            throw new InvalidDataException("damaged payload");
        }

        var id = BinaryPrimitives.ReadInt64LittleEndian(payload.Span);
        var op = (Op)BinaryPrimitives.ReadInt32LittleEndian(payload.Span[8..]);
        switch (op)
        {
            case Op.EchoSame:
                return ValueTask.FromResult(payload);
            case Op.EchoSlice:
                return ValueTask.FromResult(payload[2..]);
            case Op.ThrowSync:
                throw new InvalidOperationException($"boom {id}");
            case Op.OneWay:
                Interlocked.Increment(ref _oneWaysHandled);
                return ValueTask.FromResult(ReadOnlyMemory<byte>.Empty);
            default:
                return HandleLaterAsync(payload, id, op, cancellationToken);
        }
    }

    private async ValueTask<ReadOnlyMemory<byte>> HandleLaterAsync(ReadOnlyMemory<byte> payload, long id, Op op, CancellationToken cancellationToken)
    {
        if (op == Op.Slow) await Task.Delay(Random.Shared.Next(0, 80), cancellationToken);
        else await Task.Yield();
        // Still ours until the handler completes: nobody may have written into it meanwhile.
        if (!Intact(payload.Span)) Problem($"request {id} ({op}) changed while its handler ran: {Describe(payload.Span)}");
        if (op == Op.ThrowAsync) throw new InvalidOperationException($"boom {id}");
        return payload;
    }

    private void Check(byte[] request, Op op, ReadOnlyMemory<byte> response)
    {
        var expected = op == Op.EchoSlice ? request.AsSpan(2) : request;
        if (!response.Span.SequenceEqual(expected))
        {
            Problem($"request {BinaryPrimitives.ReadInt64LittleEndian(request)} ({op}, {request.Length} bytes) got someone else's answer: "
                    + Describe(op == Op.EchoSlice && response.Length >= 14 ? [0, 0, .. response.Span] : response.Span));
        }
    }

    private void Problem(string problem) => _problems.Enqueue(problem);

    private TransportListener RestartListener(int port)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            try
            {
                return StartListener(Handle, port: port);
            }
            catch (SocketException)
            {
                Thread.Sleep(10);
            }
        }

        // The port was taken meanwhile: a new port is as good for this test.
        return StartListener(Handle);
    }

    private static int PickLength(Random random) => random.Next(100) switch
    {
        < 70 => HeaderSize + random.Next(0, 256),
        < 95 => HeaderSize + random.Next(256, 16 * 1024),
        < 99 => HeaderSize + random.Next(16 * 1024, 256 * 1024),
        _ => HeaderSize + random.Next(256 * 1024, 1024 * 1024),
    };

    private static byte[] NewPayload(long id, Op op, int length)
    {
        var payload = new byte[length];
        BinaryPrimitives.WriteInt64LittleEndian(payload, id);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(8), (int)op);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(12), length);
        var pattern = Pattern(id);
        for (var k = HeaderSize; k < length; k++) payload[k] = PatternByte(pattern, k);
        return payload;
    }

    private static bool Intact(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < HeaderSize || BinaryPrimitives.ReadInt32LittleEndian(payload[12..]) != payload.Length) return false;
        var pattern = Pattern(BinaryPrimitives.ReadInt64LittleEndian(payload));
        for (var k = HeaderSize; k < payload.Length; k++)
        {
            if (payload[k] != PatternByte(pattern, k)) return false;
        }

        return true;
    }

    private static ulong Pattern(long id) => (ulong)id * 0x9E3779B97F4A7C15UL;

    private static byte PatternByte(ulong pattern, int k) => (byte)((pattern >> ((k & 7) * 8)) ^ (uint)(k >> 3));

    private static string Describe(ReadOnlySpan<byte> bytes) =>
        bytes.Length < HeaderSize
            ? $"{bytes.Length} bytes [{Convert.ToHexString(bytes)}]"
            : $"{bytes.Length} bytes, id {BinaryPrimitives.ReadInt64LittleEndian(bytes)}, op {BinaryPrimitives.ReadInt32LittleEndian(bytes[8..])}, "
              + $"length field {BinaryPrimitives.ReadInt32LittleEndian(bytes[12..])}, intact {Intact(bytes)}, starts [{Convert.ToHexString(bytes[..Math.Min(32, bytes.Length)])}]";
}
