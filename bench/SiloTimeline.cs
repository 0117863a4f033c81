using System.Diagnostics.Metrics;
using System.Globalization;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Bench;

/// <summary>
/// A silo's longest GC pause and longest database commit in each 100 ms of its life, so the bench can
/// tell, second by second, whether a latency spike of the open loop was the silo's collector, the
/// database, or neither. The silo host prints it as one <c>timeline:</c> line when it stops; the bench
/// keeps one of its own process too (GC pauses only), since the open loop's clock runs there.
/// </summary>
public sealed class SiloTimeline : IDisposable
{
    public const string Prefix = "timeline: ";
    private const long SlotMs = 100;

    private readonly object _gate = new();
    private readonly Dictionary<long, (double Gc, double Commit)> _slots = new();
    private readonly MeterListener _commits = new();

    private SiloTimeline()
    {
    }

    /// <summary>Records from now on: GC pauses (reported by <see cref="GcPauses"/>) and every group commit's duration.</summary>
    public static SiloTimeline Start()
    {
        var timeline = new SiloTimeline();
        timeline._commits.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == TransactionMetrics.MeterName && instrument.Name == TransactionMetrics.CommitGroupDuration)
                listener.EnableMeasurementEvents(instrument);
        };
        timeline._commits.SetMeasurementEventCallback<double>((_, ms, _, _) => timeline.Commit(DateTimeOffset.UtcNow, ms));
        timeline._commits.Start();
        return timeline;
    }

    public void GcPause(DateTimeOffset startedAt, double ms) => Record(startedAt, ms, gc: true);

    public void Commit(DateTimeOffset endedAt, double ms) => Record(endedAt, ms, gc: false);

    private void Record(DateTimeOffset at, double ms, bool gc)
    {
        var slot = at.ToUnixTimeMilliseconds() / SlotMs;
        lock (_gate)
        {
            var (g, c) = _slots.GetValueOrDefault(slot);
            _slots[slot] = gc ? (Math.Max(g, ms), c) : (g, Math.Max(c, ms));
        }
    }

    /// <summary>The longest GC pause and database commit that began (GC) or ended (commit) within [from, from + length).</summary>
    public (double Gc, double Commit) Longest(DateTimeOffset from, TimeSpan length)
    {
        var first = from.ToUnixTimeMilliseconds() / SlotMs;
        var last = (from + length).ToUnixTimeMilliseconds() / SlotMs;
        double gc = 0, commit = 0;
        lock (_gate)
            for (var slot = first; slot < last; slot++)
                if (_slots.TryGetValue(slot, out var s))
                    (gc, commit) = (Math.Max(gc, s.Gc), Math.Max(commit, s.Commit));
        return (gc, commit);
    }

    /// <summary>One line: <c>timeline: slot=gc/commit …</c>, slots in units of 100 ms since the Unix epoch, times in ms.</summary>
    public string Format()
    {
        lock (_gate)
            return Prefix + string.Join(' ', _slots.OrderBy(s => s.Key).Select(s =>
                string.Create(CultureInfo.InvariantCulture, $"{s.Key}={s.Value.Gc:0.0}/{s.Value.Commit:0.0}")));
    }

    /// <summary>Reads a line written by <see cref="Format"/>; null when the line is not one.</summary>
    public static SiloTimeline? Parse(string line)
    {
        if (!line.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var timeline = new SiloTimeline();
        foreach (var item in line[Prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = (item[..item.IndexOf('=')], item[(item.IndexOf('=') + 1)..]);
            var parts = value.Split('/');
            timeline._slots[long.Parse(key, CultureInfo.InvariantCulture)] =
                (double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        return timeline;
    }

    public void Dispose() => _commits.Dispose();
}
