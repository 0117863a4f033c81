using System.Globalization;
using System.Text;
using BankGrains.Runtime.Storage;

namespace BankGrains.Runtime.Transactions;

/// <summary>
/// Transactions, ledger and idempotency keys in process memory, for tests and development, with the
/// same semantics as the database stores: states are written through the shared
/// <see cref="MemoryGrainStorage"/> all-or-nothing, each request of a group is applied whole or not at
/// all, in order, and an id has one outcome forever. Everything happens under one lock.
/// Two hooks let tests break a commit: <see cref="BeforeCommit"/> (throwing: nothing applied) and
/// <see cref="AfterCommit"/> (throwing: everything applied, like a connection lost after COMMIT).
/// </summary>
public sealed class MemoryTransactionStore : ITransactionStore, ILedgerStore, IIdempotencyStore
{
    private readonly object _gate = new();
    private readonly MemoryGrainStorage _storage;
    private readonly TimeProvider _time;
    private readonly Dictionary<Guid, TransactionOutcome> _outcomes = [];
    private readonly Dictionary<string, SortedDictionary<long, JournalEntry>> _journal = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, LedgerTransaction> _headers = [];
    private readonly Dictionary<Guid, List<(string Account, long Sequence)>> _entriesByTransaction = [];
    private readonly Dictionary<Guid, (Guid TransactionId, OutboxEvent Event)> _outbox = [];
    private readonly Dictionary<string, KeyRow> _keys = new(StringComparer.Ordinal);

    /// <param name="storage">Where participant states live: the grain storage the silos use.</param>
    /// <param name="time">The clock for idempotency leases (default: the system clock).</param>
    public MemoryTransactionStore(MemoryGrainStorage storage, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Runs before a group is applied; an exception propagates and nothing is applied.</summary>
    public Action<IReadOnlyList<CommitRequest>>? BeforeCommit { get; set; }

    /// <summary>Runs after a group is applied; an exception propagates with everything applied (the outcome looks unknown to the caller).</summary>
    public Action<IReadOnlyList<CommitRequest>>? AfterCommit { get; set; }

    public MemoryGrainStorage GrainStorage => _storage;

    // ---- ITransactionStore --------------------------------------------------------------------

    public Task<IReadOnlyList<CommitResult>> CommitAsync(IReadOnlyList<CommitRequest> group, CancellationToken cancellationToken = default)
    {
        TransactionStoreRules.ValidateGroup(group);
        cancellationToken.ThrowIfCancellationRequested();
        if (group.Count == 0) return Task.FromResult<IReadOnlyList<CommitResult>>([]);

        var results = new List<CommitResult>(group.Count);
        lock (_gate)
        {
            BeforeCommit?.Invoke(group);
            foreach (var request in group) results.Add(Apply(request));
        }
        AfterCommit?.Invoke(group);
        return Task.FromResult<IReadOnlyList<CommitResult>>(results);
    }

    public Task<TransactionOutcome> ResolveAsync(Guid transactionId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_outcomes.TryGetValue(transactionId, out var outcome))
                _outcomes[transactionId] = outcome = TransactionOutcome.Aborted;
            return Task.FromResult(outcome);
        }
    }

    public Task<TransactionOutcome?> ReadOutcomeAsync(Guid transactionId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
            return Task.FromResult<TransactionOutcome?>(_outcomes.TryGetValue(transactionId, out var outcome) ? outcome : null);
    }

    private CommitResult Apply(CommitRequest request)
    {
        var id = request.TransactionId;
        var records = request.Records;
        // Checks in the order the SQL stores judge their statements, so every store reports the same
        // reason. The key first: a retry that reuses a completed key learns that, whatever else holds.
        if (records.Idempotency is { } key && _keys.TryGetValue(key.Key, out var row)
            && (row.Completed || !string.Equals(row.RequestHash, key.RequestHash, StringComparison.Ordinal)))
            return new CommitResult(id, CommitStatus.IdempotencyKeyUsed, TransactionStoreRules.KeyUsed(key.Key));
        if (_outcomes.ContainsKey(id))
            return new CommitResult(id, CommitStatus.AlreadyDecided, TransactionStoreRules.AlreadyDecided(id));

        var writes = request.Writes
            .Select(w => new MemoryStateWrite(w.GrainId, w.StateName, w.ExpectedVersion, Encoding.UTF8.GetBytes(w.Payload)))
            .ToList();
        var refused = _storage.TryWriteAll(writes, checkOnly: true);
        if (refused >= 0) return StateConflict(request, refused);


        var seen = new HashSet<(string, long)>();
        foreach (var e in records.Entries)
        {
            if (e.Sequence <= 0 || !seen.Add((e.AccountId, e.Sequence))
                || (_journal.TryGetValue(e.AccountId, out var chain) && chain.ContainsKey(e.Sequence)))
                return new CommitResult(id, CommitStatus.VersionConflict, TransactionStoreRules.EntryExists(e));
        }
        if (records.Header is not null && _headers.ContainsKey(id))
            return new CommitResult(id, CommitStatus.VersionConflict, TransactionStoreRules.HeaderExists(id));
        var events = new HashSet<Guid>();
        foreach (var ev in records.Events)
        {
            if (!events.Add(ev.EventId) || _outbox.ContainsKey(ev.EventId))
                return new CommitResult(id, CommitStatus.VersionConflict, TransactionStoreRules.EventExists(ev.EventId));
        }

        // Everything checked under our lock; the states last, atomically (a plain grain write may have raced us).
        refused = _storage.TryWriteAll(writes);
        if (refused >= 0) return StateConflict(request, refused);

        _outcomes[id] = TransactionOutcome.Committed;
        if (records.Idempotency is { } record)
            _keys[record.Key] = new KeyRow(record.RequestHash, Completed: true, Owner: null, LeaseUntil: null, record.StatusCode, record.ResponseBody);
        foreach (var e in records.Entries)
        {
            var stored = TransactionStoreRules.Normalize(e);
            if (!_journal.TryGetValue(e.AccountId, out var chain)) _journal[e.AccountId] = chain = [];
            chain[e.Sequence] = stored;
            if (!_entriesByTransaction.TryGetValue(e.TransactionId, out var list)) _entriesByTransaction[e.TransactionId] = list = [];
            list.Add((e.AccountId, e.Sequence));
        }
        if (records.Header is { } header)
            _headers[id] = header with { CreatedAt = JournalHash.TruncateToMicroseconds(header.CreatedAt) };
        foreach (var ev in records.Events)
            _outbox[ev.EventId] = (id, ev with { OccurredAt = JournalHash.TruncateToMicroseconds(ev.OccurredAt) });
        return new CommitResult(id, CommitStatus.Committed);
    }

    private static CommitResult StateConflict(CommitRequest request, int index) =>
        new(request.TransactionId, CommitStatus.VersionConflict, TransactionStoreRules.StateConflict(request.Writes[index], fenced: false));

    // ---- ILedgerStore -------------------------------------------------------------------------

    public Task<IReadOnlyList<JournalEntry>> ReadEntriesAsync(string accountId, long afterSequence, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyList<JournalEntry> page = _journal.TryGetValue(accountId, out var chain)
                ? chain.Values.Where(e => e.Sequence > afterSequence).Take(limit).ToList()
                : [];
            return Task.FromResult(page);
        }
    }

    public Task<LedgerTransactionView?> ReadTransactionAsync(Guid transactionId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_headers.TryGetValue(transactionId, out var header)) return Task.FromResult<LedgerTransactionView?>(null);
            var entries = _entriesByTransaction.GetValueOrDefault(transactionId, [])
                .Select(k => _journal[k.Account][k.Sequence])
                .OrderBy(e => e.AccountId, StringComparer.Ordinal).ThenBy(e => e.Sequence)
                .ToList();
            return Task.FromResult<LedgerTransactionView?>(new LedgerTransactionView(header, entries));
        }
    }

    public Task<LedgerVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        List<JournalEntry> all;
        lock (_gate)
            all = _journal.OrderBy(a => a.Key, StringComparer.Ordinal).SelectMany(a => a.Value.Values).ToList();
        return Task.FromResult(LedgerVerifier.Verify(all));
    }

    /// <summary>The outbox events committed by a transaction (for tests; a publisher would read the outbox table).</summary>
    public IReadOnlyList<OutboxEvent> ReadOutbox(Guid transactionId)
    {
        lock (_gate)
            return _outbox.Values.Where(o => o.TransactionId == transactionId).Select(o => o.Event).ToList();
    }

    /// <summary>
    /// For tests of the integrity check: replaces a stored entry with what <paramref name="change"/>
    /// returns, or removes it when that is null. Journal entries are otherwise immutable.
    /// </summary>
    internal void TamperWithEntry(string accountId, long sequence, Func<JournalEntry, JournalEntry?> change)
    {
        lock (_gate)
        {
            var chain = _journal[accountId];
            var old = chain[sequence];
            if (change(old) is { } replacement)
            {
                chain[sequence] = replacement;
                return;
            }
            chain.Remove(sequence);
            _entriesByTransaction[old.TransactionId].Remove((accountId, sequence));
        }
    }

    // ---- IIdempotencyStore --------------------------------------------------------------------

    public Task<IdempotencyClaim> ClaimAsync(string key, string requestHash, Guid owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(requestHash);
        cancellationToken.ThrowIfCancellationRequested();
        var claimed = new KeyRow(requestHash, Completed: false, owner, JournalHash.TruncateToMicroseconds(leaseUntil), 0, null);
        lock (_gate)
        {
            if (!_keys.TryGetValue(key, out var row))
            {
                _keys[key] = claimed;
                return Task.FromResult(new IdempotencyClaim(IdempotencyClaimStatus.Claimed));
            }
            var claim = TransactionStoreRules.JudgeClaim(
                string.Equals(row.RequestHash, requestHash, StringComparison.Ordinal), row.Completed,
                row.LeaseUntil is { } until && until > _time.GetUtcNow(), row.StatusCode, row.Response);
            if (claim.Status == IdempotencyClaimStatus.Claimed) _keys[key] = claimed; // the earlier holder's lease ran out: take over
            return Task.FromResult(claim);
        }
    }

    public Task CompleteAsync(string key, Guid owner, int statusCode, string responseBody, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(responseBody);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_keys.TryGetValue(key, out var row) && !row.Completed && row.Owner == owner)
                _keys[key] = row with { Completed = true, Owner = null, LeaseUntil = null, StatusCode = statusCode, Response = responseBody };
        }
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string key, Guid owner, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_keys.TryGetValue(key, out var row) && !row.Completed && row.Owner == owner) _keys.Remove(key);
        }
        return Task.CompletedTask;
    }

    private sealed record KeyRow(string RequestHash, bool Completed, Guid? Owner, DateTimeOffset? LeaseUntil, int StatusCode, string? Response);
}

/// <summary>What the three transaction stores share: argument checks, stored forms and the texts of refusals.</summary>
internal static class TransactionStoreRules
{
    /// <summary>
    /// A request's records must all belong to it: entries and header carry the request's transaction id.
    /// A violation is a caller bug, refused before anything touches storage.
    /// </summary>
    public static void ValidateGroup(IReadOnlyList<CommitRequest> group)
    {
        ArgumentNullException.ThrowIfNull(group);
        foreach (var request in group)
        {
            ArgumentNullException.ThrowIfNull(request, nameof(group));
            ArgumentNullException.ThrowIfNull(request.Writes, nameof(group));
            ArgumentNullException.ThrowIfNull(request.Records, nameof(group));
            foreach (var w in request.Writes)
            {
                if (w.GrainId.Type is null) throw new ArgumentException("A default GrainId cannot be stored.", nameof(group));
                ArgumentException.ThrowIfNullOrEmpty(w.StateName, nameof(group));
                ArgumentNullException.ThrowIfNull(w.Payload, nameof(group));
            }
            foreach (var e in request.Records.Entries)
            {
                if (e.TransactionId != request.TransactionId)
                    throw new ArgumentException($"Journal entry {e.AccountId}#{e.Sequence} belongs to transaction {e.TransactionId}, not {request.TransactionId}.", nameof(group));
            }
            if (request.Records.Header is { } h && h.TransactionId != request.TransactionId)
                throw new ArgumentException($"The ledger header of transaction {request.TransactionId} names transaction {h.TransactionId}.", nameof(group));
        }
    }

    /// <summary>What a claim of an existing key gets; Claimed means the caller takes over an expired claim.</summary>
    public static IdempotencyClaim JudgeClaim(bool sameRequest, bool completed, bool leaseRunning, int statusCode, string? response)
    {
        if (!sameRequest) return new IdempotencyClaim(IdempotencyClaimStatus.Mismatch);
        if (completed) return new IdempotencyClaim(IdempotencyClaimStatus.Completed, statusCode, response);
        return new IdempotencyClaim(leaseRunning ? IdempotencyClaimStatus.InProgress : IdempotencyClaimStatus.Claimed);
    }

    /// <summary>The entry as every store reads it back: UTC, whole microseconds.</summary>
    public static JournalEntry Normalize(JournalEntry e) => e with { PostedAt = JournalHash.TruncateToMicroseconds(e.PostedAt) };

    public static string AlreadyDecided(Guid id) => $"transaction {id} already has a recorded outcome";

    public static string StateConflict(StateWrite w, bool fenced) =>
        $"state '{w.StateName}' of grain '{w.GrainId}' is not at version {w.ExpectedVersion.ToString(CultureInfo.InvariantCulture)}" +
        (fenced && w.Writer is { } writer ? $", or its writer {writer} is dead in the membership table" : "");

    public static string KeyUsed(string key) => $"idempotency key '{key}' was already completed, or is held for a different request";

    public static string EntryExists(JournalEntry e) =>
        $"journal entry of account '{e.AccountId}' sequence {e.Sequence.ToString(CultureInfo.InvariantCulture)} already exists or is invalid";

    public static string HeaderExists(Guid id) => $"ledger transaction {id} already exists";

    public static string EventExists(Guid id) => $"outbox event {id} already exists";

    public static string EntriesExist(IEnumerable<JournalEntry> entries) =>
        "one of the journal entries " + string.Join(", ", entries.Select(e => $"'{e.AccountId}'#{e.Sequence.ToString(CultureInfo.InvariantCulture)}")) +
        " already exists or is repeated";

    public static string EventsExist(IEnumerable<OutboxEvent> events) =>
        "one of the outbox events " + string.Join(", ", events.Select(e => e.EventId)) + " already exists or is repeated";

    public static string Integrity(string message) => $"refused by an integrity constraint: {message}";

    // SQLite keeps times as text that sorts like the instant it names.
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    public static string FormatTime(DateTimeOffset at) =>
        JournalHash.TruncateToMicroseconds(at).UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.ParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static string FormatDecimal(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    public static decimal ParseDecimal(string text) => decimal.Parse(text, NumberStyles.Number, CultureInfo.InvariantCulture);
}
