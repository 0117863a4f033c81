using BankGrains.Runtime.Tests.Grains;
using Xunit;

namespace BankGrains.Runtime.Tests.Execution;

public sealed class TurnBasedExecutionTests
{
    [Fact]
    public async Task Non_reentrant_grain_runs_one_request_at_a_time_under_concurrent_callers()
    {
        await using var cluster = await Clusters.StartAsync();
        var grain = cluster.GrainFactory.GetGrain<IConcurrencyProbeGrain>("serial");

        await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => grain.WorkAsync(3)));
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => grain.IncrementAsync()));

        var report = await grain.ReportAsync();
        Assert.Equal(1, report.MaxOverlappingRequests);
        Assert.Equal(0, report.ThreadViolations);
        Assert.Equal(200, report.Count); // read-await-write never lost an update
        Assert.Equal(Enumerable.Range(1, 200), results.Order());
    }

    [Fact]
    public async Task Reentrant_grain_interleaves_requests_but_never_runs_two_threads_at_once()
    {
        await using var cluster = await Clusters.StartAsync();
        var grain = cluster.GrainFactory.GetGrain<IReentrantProbeGrain>("reentrant");

        await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => grain.WorkAsync(20)));

        var report = await grain.ReportAsync();
        Assert.True(report.MaxOverlappingRequests > 1, $"expected overlap, saw {report.MaxOverlappingRequests}");
        Assert.Equal(0, report.ThreadViolations);
    }

    [Fact]
    public async Task AlwaysInterleave_method_runs_while_a_request_is_blocked_and_ordinary_ones_wait()
    {
        await using var cluster = await Clusters.StartAsync();
        var grain = cluster.GrainFactory.GetGrain<IConcurrencyProbeGrain>("interleave");

        var blocked = grain.BlockUntilReleasedAsync();
        await Task.Delay(50);
        var ordinary = grain.IncrementAsync();

        Assert.Equal("pong", await grain.PingInterleavedAsync().WaitAsync(TimeSpan.FromSeconds(5)));
        await Task.Delay(100);
        Assert.False(ordinary.IsCompleted, "an ordinary request started while another was in progress");

        await grain.ReleaseAsync();
        await blocked.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, await ordinary.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ReadOnly_requests_overlap_each_other_but_not_writes()
    {
        await using var cluster = await Clusters.StartAsync();
        var readers = cluster.GrainFactory.GetGrain<IConcurrencyProbeGrain>("readers");
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => readers.ReadSlowlyAsync(30)));
        var readReport = await readers.ReportAsync();
        Assert.True(readReport.MaxOverlappingRequests > 1, "read-only requests did not overlap");

        var mixed = cluster.GrainFactory.GetGrain<IConcurrencyProbeGrain>("mixed");
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? mixed.ReadSlowlyAsync(20) : mixed.WorkAsync(20)));
        // Reads may pair up with reads, but any write runs alone: max overlap stays within the read pairs,
        // and the thread discipline holds.
        var mixedReport = await mixed.ReportAsync();
        Assert.Equal(0, mixedReport.ThreadViolations);

        var writer = cluster.GrainFactory.GetGrain<IConcurrencyProbeGrain>("writer");
        var blocked = writer.BlockUntilReleasedAsync();
        await Task.Delay(50);
        var read = writer.ReadSlowlyAsync(1);
        await Task.Delay(100);
        Assert.False(read.IsCompleted, "a read-only request overlapped a write");
        await writer.ReleaseAsync();
        await Task.WhenAll(blocked, read).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Stateless_worker_spreads_concurrent_calls_over_bounded_local_activations()
    {
        await using var cluster = await Clusters.StartAsync();
        var worker = cluster.GrainFactory.GetGrain<IWorkerGrain>(7);

        var activations = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => worker.WorkAsync(30)));

        var distinct = activations.Distinct().Count();
        Assert.InRange(distinct, 2, 3); // [StatelessWorker(3)]
    }
}
