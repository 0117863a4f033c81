using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace BankGrains.Bench;

/// <summary>
/// Every stop-the-world pause of this process's garbage collector, from the runtime's own events
/// (execution engine suspended → restarted): how many, how long in all, and the longest, so a latency
/// stall can be told apart from a GC pause.
/// </summary>
public sealed class GcPauses(SiloTimeline timeline) : EventListener
{
    private const int SuspendBegin = 9;   // GCSuspendEEBegin_V1
    private const int RestartEnd = 3;     // GCRestartEEEnd_V1
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    private readonly object _gate = new();
    private readonly int[] _gen0To2 = new int[3];
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private long _suspendedAt;
    private int _pauses;
    private double _totalMs, _longestMs;
    private int _over10Ms;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Informational, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        lock (_gate)
        {
            switch (e.EventId)
            {
                case SuspendBegin:
                    _suspendedAt = e.TimeStamp.Ticks;
                    break;
                case RestartEnd when _suspendedAt != 0:
                    var ms = (e.TimeStamp.Ticks - _suspendedAt) / (double)TimeSpan.TicksPerMillisecond;
                    _suspendedAt = 0;
                    _pauses++;
                    _totalMs += ms;
                    _longestMs = Math.Max(_longestMs, ms);
                    if (ms > 10) _over10Ms++;
                    timeline.GcPause(new DateTimeOffset(e.TimeStamp.ToUniversalTime()) - TimeSpan.FromMilliseconds(ms), ms);
                    break;
                case 1 when e.PayloadNames?.IndexOf("Depth") is int depth and >= 0 && e.Payload![depth] is uint generation && generation <= 2:
                    _gen0To2[generation]++; // GCStart
                    break;
            }
        }
    }

    /// <summary>One line for the end of a run, over the time since this listener started; with <paramref name="committed"/> transactions, the bytes allocated per transaction too.</summary>
    public string Summary(long committed = 0)
    {
        var wall = Stopwatch.GetElapsedTime(_startedAt);
        // Over the whole process, warm-up included: the allocation rate is what drives the collections.
        var allocated = GC.GetTotalAllocatedBytes();
        var perTransaction = committed > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({allocated / 1024.0 / committed:0.0} KB per committed transaction)") : "";
        lock (_gate)
            return string.Create(CultureInfo.InvariantCulture,
                $"gc: {_gen0To2.Sum()} collections (gen0 {_gen0To2[0]}, gen1 {_gen0To2[1]}, gen2 {_gen0To2[2]}); {_pauses} pauses, " +
                $"{_totalMs:0} ms in all ({100 * _totalMs / Math.Max(1, wall.TotalMilliseconds):0.0} % of {wall.TotalSeconds:0} s), longest {_longestMs:0.0} ms, {_over10Ms} over 10 ms; " +
                $"{allocated / 1e6:0} MB allocated{perTransaction}");
    }
}
