using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace BankGrains.Runtime.Transactions;

/// <summary>What the queue did with one transaction: the store's result, or why it never reached the store.</summary>
internal readonly record struct QueuedCommitOutcome(CommitResult? Result, TransactionAbortReason? Abort, string? Detail);

/// <summary>
/// Group commit for one coordinator: every transaction ready while earlier database commits were
/// running goes into the next one, so a commit (and its fsync) is shared by many transactions. A
/// transaction built on an undecided one (a busy account's pipeline) joins a group only once that one
/// is decided, or in the same group after it, and fails at once if that one aborted; groups without
/// such ties commit in parallel (a few at a time).
/// </summary>
internal sealed class CommitQueue
{
    private readonly ITransactionStore _store;
    private readonly int _maxBatch;
    private readonly int _maxInFlight;
    private readonly TimeSpan _decisionsKept;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Pending> _incoming = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<Guid, bool> _decided = new();
    private readonly ConcurrentQueue<(Guid Id, DateTimeOffset At)> _decidedOrder = new();
    private readonly Lazy<Task> _writer;
    private readonly SemaphoreSlim _wake = new(0);
    private int _wakePending;

    public CommitQueue(ITransactionStore store, int maxBatch, int maxInFlight, TimeSpan transactionTimeout, TimeProvider time, ILogger logger)
    {
        // A dependent transaction lives at most one timeout, and its predecessor was decided after it
        // began, so a decision is needed for one timeout; kept twice that (and at least 30 s) for margin.
        // Longer only keeps hundreds of thousands of entries alive under load, for the GC to walk.
        _decisionsKept = TimeSpan.FromTicks(Math.Max(2 * transactionTimeout.Ticks, TimeSpan.FromSeconds(30).Ticks));
        _store = store;
        _maxBatch = Math.Max(1, maxBatch);
        _maxInFlight = Math.Max(1, maxInFlight);
        _time = time;
        _logger = logger;
        _writer = new Lazy<Task>(() => Task.Run(WriteLoopAsync));
    }

    /// <summary>Queues a commit. Throws (through the task) when the database commit's outcome is unknown.</summary>
    /// <param name="run">The run being committed (<see cref="TransactionInfo.Run"/>); dependencies name runs.</param>
    public Task<QueuedCommitOutcome> CommitAsync(CommitRequest request, Guid run, IReadOnlyCollection<Guid> dependsOn, DateTimeOffset deadline)
    {
        var pending = new Pending(request, run, dependsOn, deadline);
        _ = _writer.Value;
        _incoming.Writer.TryWrite(pending);
        Wake();
        return pending.Completion.Task;
    }

    /// <summary>Records a run's outcome learnt elsewhere (an abort before commit, a resolved doubt), for runs that depend on it.</summary>
    public void Remember(Guid run, bool committed)
    {
        if (_decided.TryAdd(run, committed)) _decidedOrder.Enqueue((run, _time.GetUtcNow()));
        Wake();
        var horizon = _time.GetUtcNow() - _decisionsKept;
        while (_decidedOrder.TryPeek(out var oldest) && oldest.At < horizon && _decidedOrder.TryDequeue(out oldest))
            _decided.TryRemove(oldest.Id, out _);
    }

    private async Task WriteLoopAsync()
    {
        var waiting = new List<Pending>();
        var inFlight = new List<Task>();
        while (true)
        {
            try
            {
                // Woken by an arrival, a finished group or a decision learnt elsewhere; while something
                // waits for a transaction it depends on, also look again every millisecond (deadlines).
                await _wake.WaitAsync(waiting.Count > 0 ? TimeSpan.FromMilliseconds(1) : Timeout.InfiniteTimeSpan).ConfigureAwait(false);
                Volatile.Write(ref _wakePending, 0);
                while (_incoming.Reader.TryRead(out var next)) waiting.Add(next);
                inFlight.RemoveAll(t => t.IsCompleted);
                // Groups in flight at once hold no transaction that depends on another in flight (TakeReady
                // only takes those whose dependencies are decided or in the same group), so their order
                // does not matter and they cannot write the same state.
                while (inFlight.Count < _maxInFlight)
                {
                    var group = TakeReady(waiting);
                    if (group.Count == 0) break;
                    inFlight.Add(CommitGroupAsync(group));
                }
            }
            catch (Exception error)
            {
                _logger.LogError(error, "Commit queue failure");
            }
        }
    }

    // At most one pending wake-up: the loop drains everything each time it runs.
    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0) _wake.Release();
    }

    private List<Pending> TakeReady(List<Pending> waiting)
    {
        var group = new List<Pending>();
        var inGroup = new HashSet<Guid>();
        var now = _time.GetUtcNow();
        var progress = true;
        while (progress && group.Count < _maxBatch)
        {
            progress = false;
            for (var i = 0; i < waiting.Count && group.Count < _maxBatch; i++)
            {
                var pending = waiting[i];
                var ready = true;
                string? abortedDependency = null;
                foreach (var dependency in pending.DependsOn)
                {
                    if (inGroup.Contains(dependency)) continue;
                    if (_decided.TryGetValue(dependency, out var committed))
                    {
                        if (!committed) abortedDependency = dependency.ToString();
                        continue;
                    }
                    ready = false;
                }
                if (abortedDependency is not null)
                {
                    Finish(waiting, ref i, pending, new QueuedCommitOutcome(null, TransactionAbortReason.DependencyAborted,
                        $"it was built on the changes of another transaction (run {abortedDependency}), which aborted"));
                }
                else if (!ready && now >= pending.Deadline)
                {
                    Finish(waiting, ref i, pending, new QueuedCommitOutcome(null, TransactionAbortReason.LockExpired,
                        "its deadline passed while it waited for the transaction it was built on"));
                }
                else if (ready)
                {
                    group.Add(pending);
                    inGroup.Add(pending.Run);
                    waiting.RemoveAt(i--);
                    progress = true;
                }
            }
        }
        return group;
    }

    private void Finish(List<Pending> waiting, ref int index, Pending pending, QueuedCommitOutcome outcome)
    {
        waiting.RemoveAt(index--);
        Remember(pending.Run, committed: false);
        pending.Completion.TrySetResult(outcome);
    }

    private async Task CommitGroupAsync(List<Pending> group)
    {
        IReadOnlyList<CommitResult> results;
        var started = Stopwatch.GetTimestamp();
        try
        {
            results = await _store.CommitAsync(group.Select(p => p.Request).ToList()).ConfigureAwait(false);
            TransactionMetrics.CommitGroup(group.Count, group.Sum(p => started - p.Enqueued), Stopwatch.GetTimestamp() - started);
        }
        catch (Exception error)
        {
            // The commit may or may not have happened: each coordinator resolves its own transaction.
            foreach (var pending in group) pending.Completion.TrySetException(error);
            Wake();
            return;
        }
        for (var i = 0; i < group.Count; i++)
        {
            var result = results[i];
            Remember(group[i].Run, result.Status == CommitStatus.Committed);
            group[i].Completion.TrySetResult(new QueuedCommitOutcome(result, null, null));
        }
        Wake();
    }

    private sealed class Pending(CommitRequest request, Guid run, IReadOnlyCollection<Guid> dependsOn, DateTimeOffset deadline)
    {
        public CommitRequest Request { get; } = request;
        public Guid Run { get; } = run;
        public long Enqueued { get; } = Stopwatch.GetTimestamp();
        public IReadOnlyCollection<Guid> DependsOn { get; } = dependsOn;
        public DateTimeOffset Deadline { get; } = deadline;
        public TaskCompletionSource<QueuedCommitOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
