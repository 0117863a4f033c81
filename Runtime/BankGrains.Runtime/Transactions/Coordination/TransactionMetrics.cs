using System.Diagnostics.Metrics;

namespace BankGrains.Runtime.Transactions;

/// <summary>
/// What this process's coordinator did, as counters (System.Diagnostics.Metrics meter
/// "BankGrains.Transactions", readable with dotnet-counters) and as a snapshot for logs and benchmarks.
/// </summary>
public static class TransactionMetrics
{
    public const string MeterName = "BankGrains.Transactions";

    private static readonly Meter Meter = new(MeterName);
    private static long _committed;
    private static long _aborted;
    private static long _lockConflictRetries;
    private static long _commitGroups;
    private static long _groupedTransactions;
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

    internal static void LockConflictRetry() => Interlocked.Increment(ref _lockConflictRetries);

    internal static void CommitGroup(int size)
    {
        Interlocked.Increment(ref _commitGroups);
        Interlocked.Add(ref _groupedTransactions, size);
    }

    public static TransactionMetricsSnapshot Snapshot() => new(
        Volatile.Read(ref _committed), Volatile.Read(ref _aborted), Volatile.Read(ref _lockConflictRetries),
        Volatile.Read(ref _commitGroups), Volatile.Read(ref _groupedTransactions),
        Enum.GetValues<TransactionAbortReason>().ToDictionary(r => r, r => Volatile.Read(ref AbortsByReason[(int)r])));
}

public sealed record TransactionMetricsSnapshot(
    long Committed, long Aborted, long LockConflictRetries, long CommitGroups, long GroupedTransactions,
    IReadOnlyDictionary<TransactionAbortReason, long> AbortsByReason)
{
    public double AverageGroupSize => CommitGroups == 0 ? 0 : (double)GroupedTransactions / CommitGroups;

    public override string ToString() =>
        $"committed {Committed}, aborted {Aborted} ({string.Join(", ", AbortsByReason.Where(a => a.Value > 0).Select(a => $"{a.Key} {a.Value}"))}), " +
        $"lock-conflict retries {LockConflictRetries}, {CommitGroups} commit groups of {AverageGroupSize:0.0} on average";
}
