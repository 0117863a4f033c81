using System.Collections.Immutable;
using BankGrains.Runtime.Core;
using BankGrains.Runtime.Membership;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BankGrains.Runtime.Transactions;

/// <summary>What the mailbox does with a transactional request for a locked grain (wait-die).</summary>
internal enum LockDecision
{
    Granted,
    Wait,
    /// <summary>Wait-die: younger than the holder; aborts with LockConflict (the coordinator retries it).</summary>
    Die,
    /// <summary>The transaction's lease here is over (deadline passed, or its work here already ended): aborts with LockExpired, not retried.</summary>
    Expired,
}

/// <summary>
/// The transactional side of one activation: its transaction lock and the versions of its states.
/// <list type="bullet">
/// <item>One transaction at a time holds the lock, leased until that transaction's deadline; it works
/// on private copies of the states. Conflicts are settled by wait-die on the transactions' ages, so
/// no cycle of waits (deadlock) can form. When the lease runs out the copies are dropped and the lock
/// freed, whatever the holder does: a failed transaction cannot leave a lock behind.</item>
/// <item>Prepare ends the holder's work here: its new states join a pipeline of prepared, undecided
/// versions and the lock passes on at once, so the next transaction builds on them (early lock
/// release). That is what lets one busy account commit many operations in one database commit. A
/// transaction built on an undecided one depends on it: it commits only after it (the commit queue
/// orders them, and each write is fenced by the version it was built on), and aborts with it.</item>
/// <item>A prepared version whose outcome never arrives (its coordinator died) is resolved from the
/// store's commit record once its deadline has passed.</item>
/// </list>
/// </summary>
internal sealed class TransactionalResource
{
    private const int RecentOutcomesKept = 512;

    private readonly object _gate = new();
    private readonly ActivationData _activation;
    private readonly Dictionary<string, ITransactionalStateBinding> _bindings = new(StringComparer.Ordinal);
    private readonly List<PreparedEntry> _pipeline = new();
    private readonly Dictionary<TransactionKey, bool> _recentOutcomes = new();
    private readonly Queue<TransactionKey> _recentOrder = new();
    private ImmutableDictionary<string, Versioned> _committed = ImmutableDictionary<string, Versioned>.Empty.WithComparers(StringComparer.Ordinal);
    private Holder? _holder;
    private bool _stale;

    public TransactionalResource(ActivationData activation) => _activation = activation;

    private TimeProvider Time => _activation.Runtime.Time;
    private GrainId GrainId => _activation.GrainId;

    /// <summary>No lock held and nothing undecided: the activation may be collected without losing anything.</summary>
    public bool IsIdle
    {
        get { lock (_gate) return _holder is null && _pipeline.Count == 0; }
    }

    public void Register(ITransactionalStateBinding binding)
    {
        if (!_bindings.TryAdd(binding.Name, binding))
            throw new InvalidOperationException($"{GrainId} declares transactional state '{binding.Name}' twice.");
    }

    /// <summary>Reads a state's committed value and version from storage (on activation, and after storage moved on).</summary>
    public async Task LoadAsync(ITransactionalStateBinding binding)
    {
        var (value, version) = await binding.ReadCommittedAsync().ConfigureAwait(false);
        lock (_gate) _committed = _committed.SetItem(binding.Name, new Versioned(value, version));
    }

    /// <summary>The last committed value, for reads outside transactions.</summary>
    public object Committed(string name)
    {
        lock (_gate) return _committed[name].Value;
    }

    /// <summary>Called by the mailbox before a transactional request starts a turn.</summary>
    public LockDecision TryAcquire(TransactionInfo tx, out string? refusal)
    {
        lock (_gate) return AcquireLocked(tx, out refusal);
    }

    /// <summary>
    /// For a transactional request that cannot start yet because the grain's turn is busy: true when
    /// wait-die already says it dies (an older transaction holds the lock). It must not queue behind
    /// that turn: the turn may be calling a grain this request's transaction holds, a cycle of turns
    /// the lock alone never sees.
    /// </summary>
    public bool MustDieWhileQueued(TransactionInfo tx, out string? refusal)
    {
        lock (_gate)
        {
            refusal = null;
            if (_holder is not { } holder || SameRun(holder.Tx, tx)) return false;
            if (Time.GetUtcNow() >= holder.Tx.Deadline || IsOlder(tx, holder.Tx)) return false;
            refusal = $"Transaction {tx} conflicts on {GrainId} with older transaction {holder.Tx}, whose turn is running (wait-die).";
            return true;
        }
    }

    /// <summary>The private copy of <paramref name="name"/> for <paramref name="tx"/>, taking the lock if it is free.</summary>
    public async ValueTask<object> WorkingCopyAsync(TransactionInfo tx, string name, bool forUpdate)
    {
        if (NeedsReload()) await ReloadAsync().ConfigureAwait(false);
        lock (_gate)
        {
            if (_holder is null || !SameRun(_holder.Tx, tx))
            {
                // Not granted by the mailbox (a [Transaction(Create)] method of this grain): a turn
                // must never wait for a lock (the holder's next call would queue behind it), so a
                // conflict dies at once.
                var decision = AcquireLocked(tx, out var refusal);
                if (decision != LockDecision.Granted)
                    throw new TransactionAbortedException(tx.Id, ReasonFor(decision),
                        refusal ?? $"Transaction {tx} could not lock {GrainId}: another transaction holds it.");
            }
            var holder = _holder!;
            if (holder.Doomed is { } doomed)
                throw new TransactionAbortedException(tx.Id, doomed.Reason, $"Transaction {tx} can no longer commit on {GrainId}: {doomed.Detail}.");
            if (!holder.Working.TryGetValue(name, out var copy))
            {
                if (!holder.Base.TryGetValue(name, out var based))
                    throw new InvalidOperationException($"{GrainId} has no transactional state named '{name}'.");
                copy = _bindings[name].Copy(based.Value, based.Version);
                holder.Working[name] = copy;
            }
            if (forUpdate) holder.Updated.Add(name);
            return copy;
        }
    }

    /// <summary>Marks the holder's work as unusable (an update threw): it will vote no.</summary>
    public void Doom(TransactionInfo tx, TransactionAbortReason reason, string detail)
    {
        lock (_gate)
        {
            if (_holder is not null && SameRun(_holder.Tx, tx)) _holder.Doomed ??= (reason, detail);
        }
    }

    public async Task<TransactionVote> PrepareAsync(TransactionKey key)
    {
        PreparedEntry? waitFor;
        lock (_gate)
        {
            if (_pipeline.FirstOrDefault(e => e.Key == key) is { } already) return already.Vote;
            if (_holder?.Key != key) return RefuseUnknown(key);
            waitFor = NeedsDecisionBeforeVote(_holder) ? _pipeline[^1] : null;
        }
        if (waitFor is not null)
        {
            // Built on a version another coordinator is committing: its commit and ours would race in
            // separate database transactions, so this vote waits for that outcome (holding the lock).
            var remaining = _holder!.Tx.Deadline - Time.GetUtcNow();
            var decided = await Task.WhenAny(waitFor.Decided.Task, Task.Delay(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, Time)).ConfigureAwait(false);
            if (decided != waitFor.Decided.Task) ExpireHolderIfStill(key);
        }

        TransactionVote vote;
        lock (_gate)
        {
            if (_pipeline.FirstOrDefault(e => e.Key == key) is { } already) return already.Vote;
            if (_holder?.Key != key) return RefuseUnknown(key);
            var holder = _holder;
            if (holder.Doomed is { } doomed)
            {
                vote = TransactionVote.Refuse(doomed.Reason, $"{GrainId}: {doomed.Detail}");
                RememberOutcome(key, committed: false);
                ReleaseHolderLocked();
            }
            else if (Time.GetUtcNow() >= holder.Tx.Deadline)
            {
                vote = TransactionVote.Refuse(TransactionAbortReason.LockExpired, $"{GrainId}: the transaction's lease on this grain ran out before prepare");
                RememberOutcome(key, committed: false);
                ReleaseHolderLocked();
            }
            else
            {
                vote = PrepareHolderLocked(holder);
            }
        }
        _activation.OnTransactionLockReleased();
        return vote;
    }

    public void Decide(TransactionKey key, bool committed, bool reload)
    {
        lock (_gate)
        {
            var index = _pipeline.FindIndex(e => e.Key == key);
            if (index < 0)
            {
                // Never prepared here (aborted during its body), or already decided.
                if (_holder?.Key == key && !committed) ReleaseHolderLocked();
                if (!committed) RememberOutcome(key, committed: false);
                if (reload && _pipeline.Count == 0) _stale = true;
            }
            else if (committed)
            {
                // Everything before it committed too: each version was built on the one before.
                _committed = _pipeline[index].After;
                for (var i = 0; i <= index; i++) Settle(_pipeline[i], committed: true);
                _pipeline.RemoveRange(0, index + 1);
            }
            else
            {
                // It and everything built on it are gone; a holder building on them cannot commit.
                var dropped = _pipeline.GetRange(index, _pipeline.Count - index);
                _pipeline.RemoveRange(index, dropped.Count);
                foreach (var entry in dropped) Settle(entry, committed: false);
                if (_holder is { } holder && holder.BaseEntry is { } baseEntry && dropped.Contains(baseEntry))
                {
                    // A holder that has not looked at the state yet simply starts from what is left.
                    if (holder.Working.Count == 0) Rebase(holder);
                    else holder.Doomed ??= (TransactionAbortReason.DependencyAborted, $"the version it read on {GrainId} was aborted");
                }
                if (reload) _stale = true;
            }
        }
        _activation.OnTransactionLockReleased();
    }

    // --- under _gate ---

    private LockDecision AcquireLocked(TransactionInfo tx, out string? refusal)
    {
        refusal = null;
        var now = Time.GetUtcNow();
        if (_holder is not null && SameRun(_holder.Tx, tx)) return LockDecision.Granted;
        // A late call of an attempt that outlived its lease (here or anywhere) is not a lock conflict:
        // retrying would rerun a body that already ran out of time. Checked first, so a body coming
        // back to a grain whose lease on it expired is told so.
        if (now >= tx.Deadline)
        {
            refusal = $"Transaction {tx} passed its deadline before it could lock {GrainId}.";
            return LockDecision.Expired;
        }
        // A late duplicate of a run that already ended here (its message was delayed).
        if (_recentOutcomes.ContainsKey(tx.Key) || _pipeline.Any(e => e.Key == tx.Key))
        {
            refusal = $"Transaction {tx} already ended its work on {GrainId}.";
            return LockDecision.Die;
        }
        if (_holder is { } holder && now >= holder.Tx.Deadline) ExpireHolderLocked();
        if (_holder is { } current)
        {
            // Wait-die: an older transaction may wait for a younger one; a younger one dies at once.
            if (IsOlder(tx, current.Tx)) return LockDecision.Wait;
            refusal = $"Transaction {tx} conflicts on {GrainId} with older transaction {current.Tx} (wait-die).";
            return LockDecision.Die;
        }
        var baseEntry = _pipeline.Count > 0 ? _pipeline[^1] : null;
        _holder = new Holder(tx, baseEntry?.After ?? _committed, baseEntry);
        _holder.Lease = Time.CreateTimer(static s => ((TransactionalResource)s!).OnLeaseTimer(), this,
            Clamp(tx.Deadline - now), Timeout.InfiniteTimeSpan);
        tx.Join(GrainId);
        return LockDecision.Granted;
    }

    /// <summary>The abort reason of a refused lock request.</summary>
    public static TransactionAbortReason ReasonFor(LockDecision decision) =>
        decision == LockDecision.Expired ? TransactionAbortReason.LockExpired : TransactionAbortReason.LockConflict;

    private static bool SameRun(TransactionInfo a, TransactionInfo b) => a.Key == b.Key;

    private static bool IsOlder(TransactionInfo a, TransactionInfo b) =>
        a.Priority != b.Priority ? a.Priority < b.Priority : a.Id.CompareTo(b.Id) < 0;

    private bool NeedsDecisionBeforeVote(Holder holder) =>
        _pipeline.Count > 0 && (holder.Updated.Count == 0 || _pipeline[^1].Coordinator != holder.Tx.Coordinator);

    private TransactionVote PrepareHolderLocked(Holder holder)
    {
        var writer = _activation.Runtime.Services.GetService<Cluster.LocalSilo>() is { IsBound: true } self ? self.Address : (SiloAddress?)null;
        var writes = new List<StateWrite>();
        var after = holder.Base;
        foreach (var name in holder.Updated)
        {
            var value = holder.Working[name];
            var expected = holder.Base[name].Version;
            writes.Add(new StateWrite(GrainId, name, expected, _bindings[name].Serialize(value), writer));
            after = after.SetItem(name, new Versioned(value, expected + 1));
        }
        var dependsOn = _pipeline.Count > 0 ? _pipeline[^1].Key.Run : (Guid?)null;
        var vote = new TransactionVote(true, null, null, writes, writes.Count > 0 ? dependsOn : null);
        if (writes.Count > 0)
        {
            var entry = new PreparedEntry(holder.Key, holder.Tx.Coordinator, holder.Tx.Deadline, after, vote);
            entry.Resolver = Time.CreateTimer(static s => ((PreparedEntry)s!).Owner!.OnUndecided((PreparedEntry)s!), entry,
                Clamp(holder.Tx.Deadline + ResolveGrace - Time.GetUtcNow()), Timeout.InfiniteTimeSpan);
            entry.Owner = this;
            _pipeline.Add(entry);
        }
        else
        {
            RememberOutcome(holder.Key, committed: true);
        }
        ReleaseHolderLocked();
        return vote;
    }

    private TransactionVote RefuseUnknown(TransactionKey key)
    {
        var detail = _recentOutcomes.TryGetValue(key, out var outcome)
            ? $"{GrainId} already {(outcome ? "finished" : "aborted")} transaction {key.Id} (lease ran out or it was aborted)"
            : $"{GrainId} does not know transaction {key.Id}: its activation changed (silo failure or deactivation) since it joined";
        var reason = _recentOutcomes.ContainsKey(key) ? TransactionAbortReason.LockExpired : TransactionAbortReason.ParticipantLost;
        return TransactionVote.Refuse(reason, detail);
    }

    private void ExpireHolderLocked()
    {
        if (_holder is null) return;
        RememberOutcome(_holder.Key, committed: false);
        ReleaseHolderLocked();
    }

    private void ReleaseHolderLocked()
    {
        _holder?.Lease?.Dispose();
        _holder = null;
    }

    private void Settle(PreparedEntry entry, bool committed)
    {
        entry.Resolver?.Dispose();
        RememberOutcome(entry.Key, committed);
        entry.Decided.TrySetResult(committed);
    }

    private void RememberOutcome(TransactionKey key, bool committed)
    {
        if (_recentOutcomes.TryAdd(key, committed)) _recentOrder.Enqueue(key);
        while (_recentOrder.Count > RecentOutcomesKept) _recentOutcomes.Remove(_recentOrder.Dequeue());
    }

    // --- timers and reloads ---

    private static readonly TimeSpan ResolveGrace = TimeSpan.FromSeconds(2);

    private static TimeSpan Clamp(TimeSpan due) => due > TimeSpan.Zero ? due : TimeSpan.Zero;

    private void ExpireHolderIfStill(TransactionKey key)
    {
        lock (_gate)
        {
            if (_holder?.Key == key) _holder.Doomed ??= (TransactionAbortReason.LockExpired, "its lease ran out while it waited for an earlier transaction's outcome");
        }
    }

    private void OnLeaseTimer()
    {
        lock (_gate)
        {
            if (_holder is null || Time.GetUtcNow() < _holder.Tx.Deadline) return;
            ExpireHolderLocked();
        }
        _activation.OnTransactionLockReleased();
    }

    /// <summary>A prepared version whose outcome never came: ask the store, which settles it for good.</summary>
    private void OnUndecided(PreparedEntry entry)
    {
        _ = ResolveAsync();

        async Task ResolveAsync()
        {
            try
            {
                var store = _activation.Runtime.Services.GetRequiredService<ITransactionStore>();
                var outcome = await store.ResolveAsync(entry.Key.Id).ConfigureAwait(false);
                Decide(entry.Key, outcome == TransactionOutcome.Committed, reload: false);
            }
            catch (Exception error)
            {
                _activation.Runtime.Logger.LogWarning(error, "Could not resolve transaction {TransactionId} on {GrainId}; retrying", entry.Key.Id, GrainId);
                lock (_gate)
                {
                    if (_pipeline.Contains(entry))
                        entry.Resolver = Time.CreateTimer(static s => ((PreparedEntry)s!).Owner!.OnUndecided((PreparedEntry)s!), entry,
                            ResolveGrace, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }

    private bool NeedsReload()
    {
        lock (_gate) return _stale && _pipeline.Count == 0 && (_holder is null || _holder.Working.Count == 0);
    }

    private async Task ReloadAsync()
    {
        foreach (var binding in _bindings.Values) await LoadAsync(binding).ConfigureAwait(false);
        lock (_gate)
        {
            _stale = false;
            if (_holder is { Working.Count: 0 } holder && _pipeline.Count == 0) Rebase(holder);
        }
    }

    private void Rebase(Holder holder)
    {
        holder.BaseEntry = _pipeline.Count > 0 ? _pipeline[^1] : null;
        holder.Base = holder.BaseEntry?.After ?? _committed;
    }

    private readonly record struct Versioned(object Value, long Version);

    private sealed class Holder(TransactionInfo tx, ImmutableDictionary<string, Versioned> @base, PreparedEntry? baseEntry)
    {
        public TransactionInfo Tx { get; } = tx;
        public TransactionKey Key => Tx.Key;
        public ImmutableDictionary<string, Versioned> Base { get; set; } = @base;
        public PreparedEntry? BaseEntry { get; set; } = baseEntry;
        public Dictionary<string, object> Working { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Updated { get; } = new(StringComparer.Ordinal);
        public (TransactionAbortReason Reason, string Detail)? Doomed { get; set; }
        public ITimer? Lease { get; set; }
    }

    private sealed class PreparedEntry(TransactionKey key, string coordinator, DateTimeOffset deadline,
        ImmutableDictionary<string, Versioned> after, TransactionVote vote)
    {
        public TransactionKey Key { get; } = key;
        public string Coordinator { get; } = coordinator;
        public DateTimeOffset Deadline { get; } = deadline;
        public ImmutableDictionary<string, Versioned> After { get; } = after;
        public TransactionVote Vote { get; } = vote;
        public TaskCompletionSource<bool> Decided { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ITimer? Resolver { get; set; }
        public TransactionalResource? Owner { get; set; }
    }
}
