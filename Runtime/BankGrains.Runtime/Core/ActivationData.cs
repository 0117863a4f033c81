using BankGrains.Runtime.Transactions;
using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Timers;
using Microsoft.Extensions.Logging;

namespace BankGrains.Runtime.Core;

internal enum ActivationState { Creating, Activating, Valid, Deactivating, Invalid }

/// <summary>
/// One activation of a grain: its instance, its mailbox and its turn scheduler. All of the grain's
/// code (activation, requests, timer ticks, deactivation) runs on one exclusive task scheduler, so
/// two pieces of grain code never run at the same time; which requests may overlap at their awaits
/// is decided here by the reentrancy attributes.
/// </summary>
internal sealed class ActivationData
{
    [ThreadStatic] private static ActivationData? _constructing;

    private readonly object _lock = new();
    private readonly LinkedList<WorkItem> _waiting = new();
    private readonly List<WorkItem> _running = new();
    private readonly List<GrainTimer> _timers = new();
    private readonly TaskScheduler _scheduler = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;
    private readonly TaskCompletionSource _deactivated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ActivationState _state = ActivationState.Creating;
    private DeactivationReason? _deactivationReason;
    private DateTimeOffset _lastActive;
    private DateTimeOffset _keepAliveUntil;

    public ActivationData(GrainId grainId, GrainClassInfo classInfo, GrainRuntime runtime)
    {
        GrainId = grainId;
        ClassInfo = classInfo;
        Runtime = runtime;
        _lastActive = runtime.Time.GetUtcNow();
    }

    /// <summary>The activation whose grain constructor is running on this thread (read by Grain's constructor).</summary>
    internal static ActivationData? Constructing => _constructing;

    public GrainId GrainId { get; }
    public GrainClassInfo ClassInfo { get; }
    public GrainRuntime Runtime { get; }
    public Grain? Instance { get; private set; }

    /// <summary>The transaction lock and state versions, when the grain has transactional state.</summary>
    internal TransactionalResource? Transactions { get; set; }
    public Task Deactivated => _deactivated.Task;

    internal ActivationState State { get { lock (_lock) return _state; } }

    /// <summary>Queued and running work, for placement of stateless workers and for statistics.</summary>
    public int Load { get { lock (_lock) return _waiting.Count + _running.Count; } }

    /// <summary>Queues work. False when the activation is gone; the caller must find or create another.</summary>
    public bool TryEnqueue(WorkItem item)
    {
        lock (_lock)
        {
            if (_state == ActivationState.Invalid) return false;
            _waiting.AddLast(item);
        }
        Pump();
        return true;
    }

    public void DeactivateOnIdle(DeactivationReason reason)
    {
        lock (_lock)
        {
            if (_state is ActivationState.Deactivating or ActivationState.Invalid || _deactivationReason is not null) return;
            _deactivationReason = reason;
        }
        Pump();
    }

    public void DelayDeactivation(TimeSpan period)
    {
        lock (_lock) _keepAliveUntil = Runtime.Time.GetUtcNow() + period;
    }

    /// <summary>Asks an idle activation to deactivate if it has been idle for at least <paramref name="age"/>.</summary>
    public bool TryCollect(DateTimeOffset now, TimeSpan age)
    {
        lock (_lock)
        {
            if (_state != ActivationState.Valid || _deactivationReason is not null || _running.Count > 0 || _waiting.Count > 0) return false;
            // Collecting now would drop a held lock or prepared versions whose outcome is still coming.
            if (Transactions is { IsIdle: false }) return false;
            if (now - _lastActive < age || now < _keepAliveUntil) return false;
        }
        DeactivateOnIdle(new DeactivationReason(DeactivationReasonCode.ActivationIdle, $"idle for more than {age}"));
        return true;
    }

    internal void AddTimer(GrainTimer timer) { lock (_lock) _timers.Add(timer); }

    internal void RemoveTimer(GrainTimer timer) { lock (_lock) _timers.Remove(timer); }

    /// <summary>The silo is gone: drop everything without running grain code (a crash, as seen from outside).</summary>
    public void Kill(Exception reason)
    {
        List<WorkItem> abandoned;
        GrainTimer[] timers;
        lock (_lock)
        {
            if (_state == ActivationState.Invalid) return;
            _state = ActivationState.Invalid;
            abandoned = _waiting.ToList();
            _waiting.Clear();
            timers = _timers.ToArray();
        }
        foreach (var timer in timers) timer.Dispose();
        foreach (var item in abandoned) item.Abandon(reason);
        _deactivated.TrySetResult();
    }

    /// <summary>A transaction lock was released or changed hands: queued transactional requests may start now.</summary>
    internal void OnTransactionLockReleased() => Pump();

    private void Pump()
    {
        List<WorkItem>? toStart = null;
        List<(WorkItem Item, LockDecision Decision, string Why)>? refused = null;
        var activate = false;
        var deactivate = false;
        lock (_lock)
        {
            switch (_state)
            {
                case ActivationState.Creating:
                    _state = ActivationState.Activating;
                    activate = true;
                    break;
                case ActivationState.Valid when _deactivationReason is not null:
                    // Finish what is running, start nothing new; queued work moves to the next activation.
                    if (_running.Count == 0)
                    {
                        _state = ActivationState.Deactivating;
                        deactivate = true;
                    }
                    break;
                case ActivationState.Valid:
                    var blocked = false;
                    for (var node = _waiting.First; node is not null;)
                    {
                        var next = node.Next;
                        var item = node.Value;
                        // FIFO for ordinary work; [AlwaysInterleave] work may pass work that has to wait.
                        if ((!blocked || item.AlwaysInterleave) && CanStart(item))
                        {
                            if (item.LockRequest is { } tx && Transactions is { } resource)
                            {
                                var decision = resource.TryAcquire(tx, out var why);
                                // A waiting transaction does not hold up other work: its lock's holder may be behind it.
                                if (decision == LockDecision.Wait) { node = next; continue; }
                                if (decision is LockDecision.Die or LockDecision.Expired)
                                {
                                    _waiting.Remove(node);
                                    (refused ??= new()).Add((item, decision, why!));
                                    node = next;
                                    continue;
                                }
                            }
                            _waiting.Remove(node);
                            _running.Add(item);
                            (toStart ??= new()).Add(item);
                        }
                        else
                        {
                            if (item.LockRequest is { } queued && Transactions is { } holderSide && holderSide.MustDieWhileQueued(queued, out var why))
                            {
                                _waiting.Remove(node);
                                (refused ??= new()).Add((item, LockDecision.Die, why!));
                                node = next;
                                continue;
                            }
                            if (!item.AlwaysInterleave) blocked = true;
                        }
                        node = next;
                    }
                    break;
            }
        }
        if (refused is not null)
            foreach (var (item, decision, why) in refused)
                item.Abandon(new TransactionAbortedException(item.LockRequest!.Id, TransactionalResource.ReasonFor(decision), why));
        if (activate) Schedule(ActivateAsync);
        if (deactivate) Schedule(DeactivateAsync);
        if (toStart is not null)
            foreach (var item in toStart) Schedule(() => RunAsync(item));
    }

    private bool CanStart(WorkItem item)
    {
        if (_running.Count == 0) return true;
        if (item.AlwaysInterleave || ClassInfo.Reentrant) return true;
        return item.ReadOnly && _running.TrueForAll(r => r.ReadOnly);
    }

    private void Schedule(Func<Task> work)
    {
        // Each turn starts with a clean execution context: the enqueuer's async-locals (its request
        // context, say) must not leak into this grain.
        using (ExecutionContext.SuppressFlow())
            _ = Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, _scheduler).Unwrap();
    }

    private async Task RunAsync(WorkItem item)
    {
        try
        {
            await item.ExecuteAsync(this);
        }
        catch (Exception error)
        {
            Runtime.Logger.LogError(error, "Unhandled error in a turn of {GrainId}", GrainId);
        }
        finally
        {
            lock (_lock)
            {
                _running.Remove(item);
                if (item.KeepsAlive) _lastActive = Runtime.Time.GetUtcNow();
            }
            Pump();
        }
    }

    private async Task ActivateAsync()
    {
        try
        {
            var states = new List<IPersistentStateBinding>();
            _constructing = this;
            try
            {
                Instance = GrainActivator.Create(ClassInfo, this, states);
            }
            finally
            {
                _constructing = null;
            }
            // State is read before OnActivateAsync, as in Orleans, so activation code sees it.
            foreach (var state in states) await state.ReadStateAsync();
            using var timeout = new CancellationTokenSource(Runtime.Collection.DeactivationTimeout);
            await Instance.OnActivateAsync(timeout.Token);
            lock (_lock)
            {
                _state = ActivationState.Valid;
                _lastActive = Runtime.Time.GetUtcNow();
            }
        }
        catch (Exception error)
        {
            Runtime.Logger.LogError(error, "Activation of {GrainId} failed", GrainId);
            List<WorkItem> failed;
            lock (_lock)
            {
                _state = ActivationState.Invalid;
                failed = _waiting.ToList();
                _waiting.Clear();
            }
            var reason = new GrainActivationException(GrainId, error);
            foreach (var item in failed) item.Abandon(reason);
            Runtime.Catalog.OnDestroyed(this, []);
            _deactivated.TrySetResult();
            return;
        }
        Pump();
    }

    private async Task DeactivateAsync()
    {
        GrainTimer[] timers;
        lock (_lock) timers = _timers.ToArray();
        foreach (var timer in timers) timer.Dispose();
        try
        {
            using var timeout = new CancellationTokenSource(Runtime.Collection.DeactivationTimeout);
            await Instance!.OnDeactivateAsync(_deactivationReason!.Value, timeout.Token);
        }
        catch (Exception error)
        {
            Runtime.Logger.LogWarning(error, "OnDeactivateAsync of {GrainId} failed", GrainId);
        }
        List<WorkItem> leftovers;
        lock (_lock)
        {
            _state = ActivationState.Invalid;
            leftovers = _waiting.Where(w => w is RequestWorkItem).ToList();
            _waiting.Clear();
        }
        // Requests that arrived while deactivating go to a fresh activation, created only now that
        // this one has finished, so the two never overlap.
        Runtime.Catalog.OnDestroyed(this, leftovers);
        _deactivated.TrySetResult();
    }
}
