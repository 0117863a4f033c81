using System.Diagnostics.Metrics;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Bench.Tests;

/// <summary>The silo's timeline of GC pauses and database commits, as the bench reads it back for the open loop's seconds.</summary>
public sealed class SiloTimelineTests
{
    private static readonly DateTimeOffset Second = new(2020, 1, 1, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_longest_pause_and_commit_of_a_second_survive_the_printed_line()
    {
        using var timeline = SiloTimeline.Start();
        timeline.GcPause(Second.AddMilliseconds(120), 4.5);
        timeline.GcPause(Second.AddMilliseconds(870), 11.25);
        timeline.Commit(Second.AddMilliseconds(300), 3.5);
        timeline.Commit(Second.AddMilliseconds(310), 2.0);
        timeline.Commit(Second.AddMilliseconds(1_050), 90.0); // the next second: a stall that is not this second's

        var read = SiloTimeline.Parse(timeline.Format())!;

        Assert.Equal((11.3, 3.5), Rounded(read.Longest(Second, TimeSpan.FromSeconds(1))));
        Assert.Equal((0.0, 90.0), Rounded(read.Longest(Second.AddSeconds(1), TimeSpan.FromSeconds(1))));
        Assert.Equal((0.0, 0.0), read.Longest(Second.AddSeconds(5), TimeSpan.FromSeconds(1)));
        Assert.Null(SiloTimeline.Parse("gc: 3 collections"));
    }

    [Fact]
    public void Group_commit_durations_are_read_from_the_transactions_meter()
    {
        using var timeline = SiloTimeline.Start();
        // An instrument of the same meter and name as TransactionMetrics' own: what the listener subscribes to by name.
        using var meter = new Meter(TransactionMetrics.MeterName);
        var commits = meter.CreateHistogram<double>(TransactionMetrics.CommitGroupDuration, "ms");
        var before = DateTimeOffset.UtcNow;

        commits.Record(42.0);

        var (_, longest) = timeline.Longest(before.AddSeconds(-1), TimeSpan.FromSeconds(3));
        Assert.Equal(42.0, longest);
    }

    private static (double, double) Rounded((double Gc, double Commit) l) => (Math.Round(l.Gc, 1), Math.Round(l.Commit, 1));
}
