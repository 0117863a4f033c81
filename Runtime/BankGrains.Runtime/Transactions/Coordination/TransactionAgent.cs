using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BankGrains.Runtime.Transactions;

/// <summary>
/// Coordinates the transactions started in this process: runs the body with the transaction as the
/// ambient context, then prepares every grain that joined, commits their new states together with the
/// transaction's records through the commit queue (one database transaction, shared with whatever
/// else is ready), and tells the participants the outcome.
/// <para>Failure rules: a body that throws, or a participant that refuses, aborts (retried by itself
/// only for wait-die lock conflicts, keeping its age). A database commit whose outcome is unknown is
/// resolved through the store's commit record, which also fences any late commit of that id; if the
/// store cannot be reached, the caller gets <see cref="TransactionInDoubtException"/> with the id,
/// and participants resolve it themselves after its deadline.</para>
/// </summary>
public sealed class TransactionAgent
{
    private static readonly TimeSpan DecisionTimeout = TimeSpan.FromSeconds(5);

    private readonly IGrainFactory _grains;
    private readonly ITransactionStore _store;
    private readonly TransactionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TransactionAgent> _logger;
    private readonly IServiceProvider _services;
    private readonly CommitQueue _queue;
    private readonly string _processName = $"process:{Guid.NewGuid():N}";

    public TransactionAgent(IGrainFactory grains, ITransactionStore store, IOptions<TransactionOptions> options, TimeProvider time,
        ILogger<TransactionAgent> logger, IServiceProvider services)
    {
        _grains = grains;
        _store = store;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _services = services;
        _queue = new CommitQueue(store, _options.MaxCommitBatch, _options.MaxCommitsInFlight, _options.Timeout, time, logger);
    }

    /// <summary>This coordinator's name: the silo's address in a cluster, else a name unique to this process.</summary>
    private string Coordinator =>
        _services.GetService<Cluster.LocalSilo>() is { IsBound: true } self ? self.Address.ToString() : _processName;

    /// <summary>Runs <paramref name="body"/> as a new transaction and commits it.</summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> body, Guid? transactionId)
    {
        var id = transactionId ?? Guid.NewGuid();
        var priority = _time.GetUtcNow().UtcTicks;
        for (var attempt = 0; ; attempt++)
        {
            var tx = new TransactionInfo(id, attempt, priority, _time.GetUtcNow() + _options.Timeout, Coordinator);
            T result;
            var started = Stopwatch.GetTimestamp();
            try
            {
                result = await RunBodyAsync(tx, body).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                await DecideAllAsync(tx, tx.Participants, committed: false, reload: false).ConfigureAwait(false);
                if (error is TransactionAbortedException { Reason: TransactionAbortReason.LockConflict } && attempt + 1 < _options.MaxAttempts)
                {
                    TransactionMetrics.LockConflictRetry();
                    await Task.Delay(Backoff(attempt), _time).ConfigureAwait(false);
                    continue;
                }
                TransactionMetrics.Aborted((error as TransactionAbortedException)?.Reason);
                throw;
            }
            await CommitAsync(tx, Stopwatch.GetTimestamp() - started).ConfigureAwait(false);
            return result;
        }
    }

    private static async Task<T> RunBodyAsync<T>(TransactionInfo tx, Func<Task<T>> body)
    {
        // Set here, inside an async method, so the ambient transaction is this body's alone.
        TransactionContext.Set(tx);
        return await body().ConfigureAwait(false);
    }

    // Randomised, doubling up to 200 ms: a young transaction on a busy grain must outlast the older
    // ones ahead of it (across coordinators each holds the lock until its predecessor's outcome is
    // known), so MaxAttempts quick retries of at most 20 ms each starved it under moderate load.
    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Random.Shared.Next(0, 1 + Math.Min(200, 1 << Math.Min(attempt, 8))));

    private async Task CommitAsync(TransactionInfo tx, long bodyTicks)
    {
        var participants = tx.Participants;
        var records = tx.Records;
        var phase = Stopwatch.GetTimestamp();
        var votes = await Task.WhenAll(participants.Select(p => PrepareAsync(p, tx))).ConfigureAwait(false);
        var prepareTicks = Stopwatch.GetTimestamp() - phase;

        if (votes.FirstOrDefault(v => !v.Prepared) is { } refusal)
            await AbortAsync(tx, participants, refusal.Refusal ?? TransactionAbortReason.ParticipantLost, refusal.Detail ?? "a participant refused", reload: false).ConfigureAwait(false);
        if (records.UnbalancedCurrencies() is { Count: > 0 } unbalanced)
            await AbortAsync(tx, participants, TransactionAbortReason.ValidationFailed,
                $"its journal entries do not balance (debits ≠ credits) in {string.Join(", ", unbalanced)}", reload: false).ConfigureAwait(false);

        var writes = votes.SelectMany(v => v.Writes).ToList();
        if (writes.Count == 0 && records.IsEmpty)
        {
            TransactionMetrics.Committed();
            await DecideAllAsync(tx, participants, committed: true, reload: false).ConfigureAwait(false);
            return;
        }
        var dependsOn = votes.Where(v => v.DependsOn is not null).Select(v => v.DependsOn!.Value).Distinct().ToList();

        QueuedCommitOutcome outcome;
        phase = Stopwatch.GetTimestamp();
        try
        {
            outcome = await _queue.CommitAsync(new CommitRequest(tx.Id, writes, records), tx.Run, dependsOn, tx.Deadline).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            outcome = await ResolveDoubtAsync(tx, participants, error).ConfigureAwait(false);
        }

        if (outcome.Result is { Status: CommitStatus.Committed })
        {
            var commitTicks = Stopwatch.GetTimestamp() - phase;
            phase = Stopwatch.GetTimestamp();
            await DecideAllAsync(tx, participants, committed: true, reload: false).ConfigureAwait(false);
            TransactionMetrics.Committed();
            TransactionMetrics.Phases(bodyTicks, prepareTicks, commitTicks, Stopwatch.GetTimestamp() - phase);
            return;
        }
        if (outcome.Result is { Status: CommitStatus.AlreadyDecided } && await IsCommittedAsync(tx.Id).ConfigureAwait(false))
        {
            _queue.Remember(tx.Run, committed: false);
            await DecideAllAsync(tx, participants, committed: false, reload: false).ConfigureAwait(false);
            throw new TransactionAlreadyCommittedException(tx.Id,
                $"Transaction {tx.Id} was already committed by an earlier run of the same id; this run changed nothing.");
        }
        var (reason, detail, reload) = outcome.Result is { } result ? Explain(result) : (outcome.Abort!.Value, outcome.Detail!, false);
        await AbortAsync(tx, participants, reason, detail, reload).ConfigureAwait(false);
    }

    private async Task<bool> IsCommittedAsync(Guid id)
    {
        try
        {
            return await _store.ReadOutcomeAsync(id).ConfigureAwait(false) == TransactionOutcome.Committed;
        }
        catch (Exception error)
        {
            _logger.LogWarning(error, "Could not read the recorded outcome of {TransactionId}", id);
            return false;
        }
    }

    /// <summary>The database commit failed in a way that hides whether it happened: ask the commit record.</summary>
    private async Task<QueuedCommitOutcome> ResolveDoubtAsync(TransactionInfo tx, IReadOnlyList<GrainId> participants, Exception error)
    {
        _logger.LogWarning(error, "Commit of transaction {TransactionId} failed with an unknown outcome; resolving", tx.Id);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                var resolved = await _store.ResolveAsync(tx.Id).ConfigureAwait(false);
                _queue.Remember(tx.Run, resolved == TransactionOutcome.Committed);
                return resolved == TransactionOutcome.Committed
                    ? new QueuedCommitOutcome(new CommitResult(tx.Id, CommitStatus.Committed), null, null)
                    : new QueuedCommitOutcome(null, TransactionAbortReason.StorageFailed, $"the database commit failed ({error.Message})");
            }
            catch (Exception resolveError)
            {
                _logger.LogWarning(resolveError, "Resolving transaction {TransactionId} failed", tx.Id);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * (attempt + 1)), _time).ConfigureAwait(false);
            }
        }
        // Participants keep its prepared versions and settle them from the commit record after its deadline.
        throw new TransactionInDoubtException(tx.Id,
            $"Transaction {tx.Id} is in doubt: the database commit failed ({error.Message}) and its commit record cannot be read now. " +
            "Resolve it by id once storage is back.");
    }

    private static (TransactionAbortReason Reason, string Detail, bool Reload) Explain(CommitResult result) => result.Status switch
    {
        CommitStatus.VersionConflict => (TransactionAbortReason.VersionConflict, result.Detail ?? "a participant's state changed in storage", true),
        CommitStatus.AlreadyDecided => (TransactionAbortReason.AlreadyResolved,
            (result.Detail ?? "its id was already resolved as aborted") + "; an id never commits after that: retry under a new id", false),
        CommitStatus.IdempotencyKeyUsed => (TransactionAbortReason.IdempotencyKeyUsed, result.Detail ?? "its idempotency key was already used", false),
        _ => (TransactionAbortReason.StorageFailed, result.Detail ?? result.Status.ToString(), false),
    };

    private async Task AbortAsync(TransactionInfo tx, IReadOnlyList<GrainId> participants, TransactionAbortReason reason, string detail, bool reload)
    {
        _queue.Remember(tx.Run, committed: false);
        TransactionMetrics.Aborted(reason);
        await DecideAllAsync(tx, participants, committed: false, reload).ConfigureAwait(false);
        throw new TransactionAbortedException(tx.Id, reason, $"Transaction {tx.Id} aborted ({reason}): {detail}.");
    }

    private async Task<TransactionVote> PrepareAsync(GrainId participant, TransactionInfo tx)
    {
        try
        {
            return await _grains.GetGrain<ITransactionParticipant>(participant).PrepareAsync(tx.Id, tx.Run).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            return TransactionVote.Refuse(TransactionAbortReason.ParticipantLost, $"{participant} could not be prepared: {error.Message}");
        }
    }

    /// <summary>Tells every participant the outcome. Best effort: one that cannot be told settles it from storage.</summary>
    private async Task DecideAllAsync(TransactionInfo tx, IReadOnlyList<GrainId> participants, bool committed, bool reload)
    {
        if (participants.Count == 0) return;
        var all = Task.WhenAll(participants.Select(async p =>
        {
            try
            {
                await _grains.GetGrain<ITransactionParticipant>(p).DecideAsync(tx.Id, tx.Run, committed, reload).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                _logger.LogDebug(error, "Could not tell {Participant} the outcome of {TransactionId}", p, tx.Id);
            }
        }));
        // WaitAsync drops its timer when the decisions arrive; a bare Task.Delay would stay armed for
        // every transaction, thousands of live timers under load.
        try
        {
            await all.WaitAsync(DecisionTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A participant that was not told settles the outcome from storage itself.
        }
    }
}
