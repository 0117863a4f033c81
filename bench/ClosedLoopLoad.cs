using System.Diagnostics;

namespace BankGrains.Bench;

/// <summary>What a closed-loop run measured (only calls that started and ended inside the measured window count).</summary>
public sealed record LoadResult(long Calls, long Errors, double Seconds, LatencyHistogram Latency, long[] CallsPerTarget, string? FirstError, long CompletedSynchronously, int ActiveCallers, long MinPerCaller, long MaxPerCaller)
{
    public double CallsPerSecond => Seconds > 0 ? Calls / Seconds : 0;
}

/// <summary>
/// Closed-loop load: <c>concurrency</c> callers, each issuing one call, awaiting it, then issuing the
/// next, round-robin over the targets (caller i calls targets i, i + C, i + 2C, … mod K, so every
/// target gets traffic and no two callers start on the same one). Warm-up first, then the measured window.
/// </summary>
public static class ClosedLoopLoad
{
    public static async Task<LoadResult> RunAsync(
        int concurrency, int targets, TimeSpan warmup, TimeSpan measure,
        Func<int, int, Task> call, Action? onMeasureStart, Action? onMeasureEnd, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        var measureStart = start + ToTicks(warmup);
        var measureEnd = measureStart + ToTicks(measure);
        var histograms = new LatencyHistogram[concurrency];
        var perTarget = new long[concurrency][];
        var errors = new long[concurrency];
        var synchronous = new long[concurrency];
        string? firstError = null;

        // The first caller to cross each edge of the window fires its hook (CPU snapshots): a timer
        // would fire late on a machine whose thread pool is saturated by the callers themselves.
        var started = 0;
        var ended = 0;

        var callers = new Task[concurrency];
        for (var c = 0; c < concurrency; c++)
        {
            var caller = c;
            histograms[caller] = new LatencyHistogram();
            perTarget[caller] = new long[targets];
            // Started inline, not with Task.Run: each caller issues its first call right here and then
            // lives on in its continuations. Queued start-up items would sit in the global queue,
            // starved by the callers already running (their continuations go to local queues first).
            callers[caller] = RunCaller(async () =>
            {
                var histogram = histograms[caller];
                var counts = perTarget[caller];
                var target = caller % targets;
                var sequence = 0;
                while (!ct.IsCancellationRequested)
                {
                    var before = Stopwatch.GetTimestamp();
                    if (before >= measureStart && Interlocked.Exchange(ref started, 1) == 0) onMeasureStart?.Invoke();
                    if (before >= measureEnd)
                    {
                        if (Interlocked.Exchange(ref ended, 1) == 0) onMeasureEnd?.Invoke();
                        break;
                    }
                    var ok = true;
                    var yieldAfter = false;
                    try
                    {
                        var pending = call(target, sequence++);
                        yieldAfter = pending.IsCompleted;
                        await pending.ConfigureAwait(false);
                    }
                    catch (Exception e) when (!ct.IsCancellationRequested)
                    {
                        ok = false;
                        Interlocked.CompareExchange(ref firstError, $"{e.GetType().Name}: {e.Message}", null);
                    }
                    var after = Stopwatch.GetTimestamp();
                    if (before >= measureStart && after <= measureEnd)
                    {
                        if (ok)
                        {
                            histogram.Record(ToNanoseconds(after - before));
                            if (yieldAfter) synchronous[caller]++;
                            counts[target]++;
                        }
                        else
                        {
                            errors[caller]++;
                        }
                    }
                    target = (target + concurrency) % targets;
                    // Every caller re-enters the thread pool's global (FIFO) queue before its next call, like a
                    // request arriving from outside. Without this, the few callers whose continuations sit in
                    // a thread's local queue run on and on and the rest starve: in a 2-core trial only 8 of
                    // 256 callers completed any call in the measured window.
                    await Task.Yield();
                }
            });
        }

        await Task.WhenAll(callers).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();

        var latency = new LatencyHistogram();
        foreach (var h in histograms) latency.Add(h);
        var totals = new long[targets];
        foreach (var counts in perTarget)
        {
            for (var t = 0; t < targets; t++) totals[t] += counts[t];
        }
        return new LoadResult(latency.Count, errors.Sum(), measure.TotalSeconds, latency, totals, firstError, synchronous.Sum(),
            histograms.Count(h => h.Count > 0), histograms.Min(h => h.Count), histograms.Max(h => h.Count));
    }

    private static Task RunCaller(Func<Task> caller) => caller();

    private static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static long ToNanoseconds(long ticks) => (long)(ticks * (1e9 / Stopwatch.Frequency));
}
