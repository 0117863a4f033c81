using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace BankGrains.Runtime.Transactions;

/// <summary>
/// What this process's coordinator did, as counters (System.Diagnostics.Metrics meter
/// "BankGrains.Transactions", readable with dotnet-counters) and as a snapshot for logs and benchmarks.
/// </summary>
public static class TransactionMetrics
{
    public const string MeterName = "BankGrains.Transactions";

    /// <summary>Histogram of each group commit's database time (ms): the commit's latency and its stalls, not only its mean.</summary>
    public const string CommitGroupDuration = "bankgrains.transactions.commit_group.duration";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Histogram<double> CommitGroupMilliseconds = Meter.CreateHistogram<double>(CommitGroupDuration, "ms");
    private static long _committed;
    private static long _aborted;
    private static long _lockConflictRetries;
    private static long _commitGroups;
    private static long _groupedTransactions;
    // Stopwatch ticks, summed: the phases of committed transactions, the commit queue and the store.
    private static long _bodyTicks, _prepareTicks, _commitTicks, _decideTicks, _queuedTicks, _storeTicks;
    private static readonly long[] AbortsByReason = new long[Enum.GetValues<TransactionAbortReason>().Length];

    static TransactionMetrics()
    {
        Meter.CreateObservableCounter("bankgrains.transactions.committed", () => Volatile.Read(ref _committed));
        Meter.CreateObservableCounter("bankgrains.transactions.aborted", () => Volatile.Read(ref _aborted));
        Meter.CreateObservableCounter("bankgrains.transactions.lock_conflict_retries", () => Volatile.Read(ref _lockConflictRetries));
        Meter.CreateObservableCounter("bankgrains.transactions.commit_groups", () => Volatile.Read(ref _commitGroups));
    }

    internal static void Committed() => Interlocked.Increment(ref _committed);

    internal static void Aborted(TransactionAbortReason? reason)
    {
        Interlocked.Increment(ref _aborted);
        if (reason is { } r) Interlocked.Increment(ref AbortsByReason[(int)r]);
    }

    /// <summary>Time a committed transaction spent in each phase, to see where latency goes.</summary>
    internal static void Phases(long body, long prepare, long commit, long decide)
    {
        Interlocked.Add(ref _bodyTicks, body);
        Interlocked.Add(ref _prepareTicks, prepare);
        Interlocked.Add(ref _commitTicks, commit);
        Interlocked.Add(ref _decideTicks, decide);
    }

    internal static void LockConflictRetry() => Interlocked.Increment(ref _lockConflictRetries);

    internal static void CommitGroup(int size, long queuedTicks, long storeTicks)
    {
        Interlocked.Increment(ref _commitGroups);
        Interlocked.Add(ref _groupedTransactions, size);
        Interlocked.Add(ref _queuedTicks, queuedTicks);
        Interlocked.Add(ref _storeTicks, storeTicks);
        CommitGroupMilliseconds.Record(Stopwatch.GetElapsedTime(0, storeTicks).TotalMilliseconds);
    }

    public static TransactionMetricsSnapshot Snapshot() => new(
        Volatile.Read(ref _committed), Volatile.Read(ref _aborted), Volatile.Read(ref _lockConflictRetries),
        Volatile.Read(ref _commitGroups), Volatile.Read(ref _groupedTransactions),
        Enum.GetValues<TransactionAbortReason>().ToDictionary(r => r, r => Volatile.Read(ref AbortsByReason[(int)r])),
        new TransactionPhaseTotals(Total(ref _bodyTicks), Total(ref _prepareTicks), Total(ref _commitTicks), Total(ref _decideTicks),
            Total(ref _queuedTicks), Total(ref _storeTicks)));

    private static TimeSpan Total(ref long ticks) => Stopwatch.GetElapsedTime(0, Volatile.Read(ref ticks));
}

/// <summary>Summed time of committed transactions in each phase, in the commit queue, and of the store's group commits.</summary>
public sealed record TransactionPhaseTotals(TimeSpan Body, TimeSpan Prepare, TimeSpan Commit, TimeSpan Decide, TimeSpan Queued, TimeSpan Store);

public sealed record TransactionMetricsSnapshot(
    long Committed, long Aborted, long LockConflictRetries, long CommitGroups, long GroupedTransactions,
    IReadOnlyDictionary<TransactionAbortReason, long> AbortsByReason,
    TransactionPhaseTotals Phases)
{
    public double AverageGroupSize => CommitGroups == 0 ? 0 : (double)GroupedTransactions / CommitGroups;

    public override string ToString() =>
        $"committed {Committed}, aborted {Aborted} ({string.Join(", ", AbortsByReason.Where(a => a.Value > 0).Select(a => $"{a.Key} {a.Value}"))}), " +
        $"lock-conflict retries {LockConflictRetries}, {CommitGroups} commit groups of {AverageGroupSize:0.0} on average; " +
        $"mean ms per committed transaction: body {Mean(Phases.Body)}, prepare {Mean(Phases.Prepare)}, commit {Mean(Phases.Commit)}, decide {Mean(Phases.Decide)}; " +
        $"in the commit queue {Mean(Phases.Queued)} before its group started, {(CommitGroups == 0 ? 0 : Phases.Store.TotalMilliseconds / CommitGroups):0.00} ms per database commit";

    private string Mean(TimeSpan total) => Committed == 0 ? "-" : (total.TotalMilliseconds / Committed).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
}
