using System.Diagnostics;

namespace BankGrains.Bench;

/// <summary>What an open-loop run measured: latency from each call's scheduled start, so a stall shows in full.</summary>
public sealed record OpenLoopResult(double TargetRate, long Scheduled, long Completed, long Errors, long Dropped, double Seconds, LatencyHistogram Latency, string? FirstError,
    IReadOnlyList<LatencyHistogram> PerSecond, DateTimeOffset StartedAt)
{
    public double CompletedPerSecond => Seconds > 0 ? Completed / Seconds : 0;
}

/// <summary>
/// Open-loop load: calls start on a fixed schedule (<c>rate</c> per second) whether or not earlier ones
/// finished, as independent customers would send them; latency counts from the scheduled start, so time
/// spent queued behind a slow system is measured instead of hidden (no coordinated omission). At most
/// <c>maxOutstanding</c> calls are in flight; a call that would exceed it is dropped and counted.
/// </summary>
public static class OpenLoopLoad
{
    public static async Task<OpenLoopResult> RunAsync(double rate, TimeSpan duration, int maxOutstanding, Func<long, Task> call, CancellationToken ct)
    {
        var latency = new LatencyHistogram();
        // By the second each call was scheduled in: shows whether a high percentile is a steady queue or a stall.
        var perSecond = Enumerable.Range(0, Math.Max(1, (int)Math.Ceiling(duration.TotalSeconds))).Select(_ => new LatencyHistogram()).ToArray();
        var gate = new object();
        long completed = 0, errors = 0, dropped = 0, outstanding = 0;
        string? firstError = null;
        var inFlight = new List<Task>();
        var start = Stopwatch.GetTimestamp();
        var startedAt = DateTimeOffset.UtcNow;
        var total = (long)(rate * duration.TotalSeconds);
        var ticksPerCall = Stopwatch.Frequency / rate;

        for (long i = 0; i < total && !ct.IsCancellationRequested; i++)
        {
            var scheduled = start + (long)(i * ticksPerCall);
            var wait = scheduled - Stopwatch.GetTimestamp();
            if (wait > Stopwatch.Frequency / 1000) await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), ct);
            if (Interlocked.Increment(ref outstanding) > maxOutstanding)
            {
                Interlocked.Decrement(ref outstanding);
                Interlocked.Increment(ref dropped);
                continue;
            }
            inFlight.Add(Run(i, scheduled));
        }
        await Task.WhenAll(inFlight).ConfigureAwait(false);
        return new OpenLoopResult(rate, total, completed, errors, dropped, duration.TotalSeconds, latency, firstError, perSecond, startedAt);

        async Task Run(long n, long scheduled)
        {
            var ok = true;
            try
            {
                await call(n).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                ok = false;
                Interlocked.CompareExchange(ref firstError, $"{e.GetType().Name}: {e.Message}", null);
            }
            var elapsed = (long)((Stopwatch.GetTimestamp() - scheduled) * (1e9 / Stopwatch.Frequency));
            lock (gate)
            {
                if (ok)
                {
                    completed++;
                    latency.Record(elapsed);
                    perSecond[Math.Min(perSecond.Length - 1, (int)((scheduled - start) / Stopwatch.Frequency))].Record(elapsed);
                }
                else
                {
                    errors++;
                }
            }
            Interlocked.Decrement(ref outstanding);
        }
    }
}
