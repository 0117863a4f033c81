using System.Collections.Concurrent;
using System.Data;
using BankGrains.Runtime.Storage;
using Npgsql;
using NpgsqlTypes;

namespace BankGrains.Runtime.Transactions;

/// <summary>
/// Transactions, ledger and idempotency keys in PostgreSQL (sql/postgres/004_transactions.sql), next to
/// grain_state. A commit group is one database transaction, so one WAL flush covers every request in
/// it; each request runs inside a savepoint and is sent as one <see cref="NpgsqlBatch"/> (one round
/// trip): its commit record, its state compare-and-swaps (fenced by the writer's membership row like
/// <see cref="PostgresGrainStorage"/>), its idempotency record, journal entries, header and outbox
/// events. Every statement is conditional and its row count says whether the request may stand; a
/// request that may not is rolled back to its savepoint and the others go on. That careful path runs
/// only when the optimistic one (<c>TryCommitAtOnceAsync</c>: the whole group in a few set-based
/// statements, no savepoints) finds a request it would refuse.
/// </summary>
public sealed class PostgresTransactionStore : ITransactionStore, ILedgerStore, IIdempotencyStore
{
    private const string Savepoint = "bg_request";

    // A commit group holds share locks on its writers' membership rows until COMMIT. If this process
    // stops between two round trips (GC pause, SIGSTOP, a frozen VM), the database ends the transaction
    // after this long instead of holding those locks — and with them every heartbeat and death vote.
    private const string LimitIdleInTransaction = "SET LOCAL idle_in_transaction_session_timeout = '3s'";

    // The writer silo's membership row, share-locked until COMMIT; no row: a dead writer. The group
    // path runs it once per writer; the careful path inside each state write (WriterIsAlive).
    private const string WriterRowSql =
        "SELECT 1 FROM membership WHERE cluster_id = @service AND address = @writer_host AND port = @writer_port " +
        "AND generation = @writer_generation AND status <> 'Dead' FOR SHARE";

    private const string WriterIsAlive = $"EXISTS ({WriterRowSql})";

    private const string InsertCommitSql =
        "INSERT INTO tx_commits (service_id, tx_id, outcome, decided_at) VALUES (@service, @tx, 'committed', now()) ON CONFLICT DO NOTHING";

    private const string InsertStateSql =
        "INSERT INTO grain_state (service_id, grain_id, state_name, version, payload, updated_at, writer) " +
        "SELECT @service, @grain, @state, 1, @payload, now(), @writer WHERE {0} " +
        "ON CONFLICT (service_id, grain_id, state_name) DO NOTHING";

    private const string UpdateStateSql =
        "UPDATE grain_state SET version = version + 1, payload = @payload, updated_at = now(), writer = @writer " +
        "WHERE service_id = @service AND grain_id = @grain AND state_name = @state AND version = @expected AND {0}";

    // Completes the key unless another request completed it first or it was claimed for a different body.
    private const string CompleteKeyOnCommitSql =
        "INSERT INTO idempotency_keys AS k (service_id, key, request_hash, state, owner, lease_until, status_code, response, tx_id, created_at, updated_at) " +
        "VALUES (@service, @key, @hash, 'completed', NULL, NULL, @status, @response, @tx, now(), now()) " +
        "ON CONFLICT (service_id, key) DO UPDATE SET state = 'completed', owner = NULL, lease_until = NULL, " +
        "status_code = excluded.status_code, response = excluded.response, tx_id = excluded.tx_id, updated_at = now() " +
        "WHERE k.state <> 'completed' AND k.request_hash = excluded.request_hash";

    // All of a request's entries in one statement, whatever their number: parallel arrays, unnested.
    private const string InsertEntriesSql =
        "INSERT INTO journal_entries (service_id, account_id, sequence, tx_id, currency, amount, balance_after, posted_at, previous_hash, hash) " +
        "SELECT @service, u.* FROM unnest(@accounts, @sequences, @txs, @currencies, @amounts, @balances, @posted, @previous, @hashes) " +
        "AS u(account_id, sequence, tx_id, currency, amount, balance_after, posted_at, previous_hash, hash) " +
        "ON CONFLICT DO NOTHING";

    // ---- The whole group at once (TryCommitAtOnceAsync): one statement per kind of row, not per request.
    // Parallel arrays, unnested; the texts never change, so automatic preparation parses each once.
    // Plain inserts: there a conflict must stop the whole attempt (see Checked).

    private const string InsertCommitsSql =
        "INSERT INTO tx_commits (service_id, tx_id, outcome, decided_at) " +
        "SELECT @service, u.tx_id, 'committed', now() FROM unnest(@txs) AS u(tx_id)";

    // Each row once (an UPDATE cannot change a row twice), at its final version and payload: see FinalStates.
    private const string UpdateStatesSql =
        "UPDATE grain_state AS g SET version = u.expected + u.writes, payload = u.payload, updated_at = now(), writer = u.writer " +
        "FROM unnest(@grains, @states, @expected_versions, @writes, @payloads, @writers) AS u(grain_id, state_name, expected, writes, payload, writer) " +
        "WHERE g.service_id = @service AND g.grain_id = u.grain_id AND g.state_name = u.state_name AND g.version = u.expected";

    private const string InsertStatesSql =
        "INSERT INTO grain_state (service_id, grain_id, state_name, version, payload, updated_at, writer) " +
        "SELECT @service, u.grain_id, u.state_name, u.writes, u.payload, now(), u.writer " +
        "FROM unnest(@grains, @states, @writes, @payloads, @writers) AS u(grain_id, state_name, writes, payload, writer)";

    // Same condition as CompleteKeyOnCommitSql. A key twice in one statement is an error (a row cannot be
    // upserted twice), which sends the group to the careful path, where the second one is refused.
    private const string CompleteKeysOnCommitSql =
        "INSERT INTO idempotency_keys AS k (service_id, key, request_hash, state, owner, lease_until, status_code, response, tx_id, created_at, updated_at) " +
        "SELECT @service, u.key, u.request_hash, 'completed', NULL, NULL, u.status_code, u.response, u.tx_id, now(), now() " +
        "FROM unnest(@keys, @hashes, @statuses, @responses, @txs) AS u(key, request_hash, status_code, response, tx_id) " +
        "ON CONFLICT (service_id, key) DO UPDATE SET state = 'completed', owner = NULL, lease_until = NULL, " +
        "status_code = excluded.status_code, response = excluded.response, tx_id = excluded.tx_id, updated_at = now() " +
        "WHERE k.state <> 'completed' AND k.request_hash = excluded.request_hash";

    // Headers and events of one request (the careful path) or of a whole group: each row under its request's id.
    private const string InsertHeadersSql =
        "INSERT INTO ledger_transactions (service_id, tx_id, kind, reference, details, created_at) " +
        "SELECT @service, u.* FROM unnest(@txs, @kinds, @references, @details, @created) AS u(tx_id, kind, reference, details, created_at) " +
        "ON CONFLICT DO NOTHING";

    private const string InsertEventsSql =
        "INSERT INTO outbox (service_id, event_id, tx_id, topic, key, payload, occurred_at) " +
        "SELECT @service, u.* FROM unnest(@events, @txs, @topics, @keys, @payloads, @occurred) AS u(event_id, tx_id, topic, key, payload, occurred_at) " +
        "ON CONFLICT DO NOTHING";

    private const string EntryColumns = "tx_id, account_id, sequence, currency, amount, balance_after, posted_at, previous_hash, hash";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _serviceId;
    private readonly PostgresFreshKeyClaims _freshKeys;

    /// <param name="dataSource">A data source for a database migrated with <see cref="SchemaMigrator"/>.</param>
    /// <param name="serviceId">Scopes every row, like grain_state; also the cluster id of the membership rows that fence writers.</param>
    public PostgresTransactionStore(NpgsqlDataSource dataSource, string serviceId)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentException.ThrowIfNullOrEmpty(serviceId);
        _dataSource = dataSource;
        _serviceId = serviceId;
        _freshKeys = new PostgresFreshKeyClaims(dataSource, serviceId);
    }

    // ---- ITransactionStore --------------------------------------------------------------------

    public async Task<IReadOnlyList<CommitResult>> CommitAsync(IReadOnlyList<CommitRequest> group, CancellationToken cancellationToken = default)
    {
        TransactionStoreRules.ValidateGroup(group);
        if (group.Count == 0) return [];

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // A group of one too: the careful path costs it two round trips and a statement per row.
        if (await TryCommitAtOnceAsync(connection, group, cancellationToken).ConfigureAwait(false) is { } atOnce)
            return atOnce;
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
        var results = new List<CommitResult>(group.Count);
        var releasePrevious = false;
        foreach (var request in group)
        {
            CommitResult result;
            await using (var batch = BuildBatch(connection, tx, request, releasePrevious, first: results.Count == 0, out var layout))
            {
                try
                {
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    result = Judge(batch, layout, request);
                }
                catch (PostgresException e) when (e.SqlState.StartsWith("23", StringComparison.Ordinal))
                {
                    // A constraint the conditional statements did not foresee: this request alone fails.
                    result = new CommitResult(request.TransactionId, CommitStatus.VersionConflict, TransactionStoreRules.Integrity(e.MessageText));
                }
            }

            if (result.Status == CommitStatus.Committed)
            {
                releasePrevious = true; // released at the start of the next request's batch, saving a round trip
            }
            else
            {
                await using var undo = new NpgsqlCommand($"ROLLBACK TO SAVEPOINT {Savepoint}; RELEASE SAVEPOINT {Savepoint}", connection, tx);
                await undo.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                releasePrevious = false;
            }
            results.Add(result);
        }
        // Whatever happens from here on (the COMMIT fails, the connection drops) propagates: the caller
        // cannot know the outcome and must resolve each id.
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return results;
    }

    // What the optimistic path did, for tests: attempts, attempts that committed, statements sent.
    private long _atOnceAttempts, _atOnceCommits, _atOnceStatements;
    internal long AtOnceAttempts => Interlocked.Read(ref _atOnceAttempts);
    internal long AtOnceCommits => Interlocked.Read(ref _atOnceCommits);
    internal long AtOnceStatements => Interlocked.Read(ref _atOnceStatements);
    internal long FreshKeyClaimGroups => _freshKeys.Groups;

    /// <summary>
    /// The common case, in one round trip: the whole group and its COMMIT in one batch, no savepoints,
    /// and a statement per kind of row rather than per request (the database's cost is mostly per
    /// statement). Each statement checks, in the database, that it changed exactly the rows it had to
    /// (<see cref="Checked"/>). If any request would be refused, or any statement fails, the error stops
    /// the batch before its COMMIT, the attempt is rolled back (null) and the group goes again request by
    /// request, so the refused one is isolated; nothing of this attempt remains either way.
    /// </summary>
    private async Task<IReadOnlyList<CommitResult>?> TryCommitAtOnceAsync(NpgsqlConnection connection, IReadOnlyList<CommitRequest> group, CancellationToken ct)
    {
        if (FinalStates(group) is not { } finalStates) return null;

        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(LimitIdleInTransaction));
        // Every statement with the number of rows it must change; any other count means some request
        // would be refused, and only the careful path can tell which.
        var expected = new List<(NpgsqlBatchCommand Command, int Rows)>();

        // Each writer silo is fenced once for the whole group (its membership row share-locked until
        // COMMIT), not once per state: the same guarantee, far fewer row locks. No row: a dead writer.
        foreach (var writer in group.SelectMany(r => r.Writes).Select(w => w.Writer).OfType<Membership.SiloAddress>().Distinct())
        {
            var fence = Add(batch, WriterRowSql);
            fence.Parameters.Add(new NpgsqlParameter<string>("writer_host", writer.Host));
            fence.Parameters.Add(new NpgsqlParameter<int>("writer_port", writer.Port));
            fence.Parameters.Add(new NpgsqlParameter<int>("writer_generation", writer.Generation));
            expected.Add((fence, 1));
        }

        // Commit records first, as in the careful path: an id already decided stops the attempt.
        var commits = Add(batch, InsertCommitsSql);
        commits.Parameters.Add(new NpgsqlParameter<Guid[]>("txs", group.Select(r => r.TransactionId).ToArray()));
        expected.Add((commits, group.Count));

        var updates = finalStates.Where(r => r.ExpectedVersion != 0).ToList();
        if (updates.Count > 0)
        {
            var cmd = Add(batch, UpdateStatesSql);
            AddStateArrays(cmd, updates);
            cmd.Parameters.Add(new NpgsqlParameter<long[]>("expected_versions", updates.Select(r => r.ExpectedVersion).ToArray()));
            expected.Add((cmd, updates.Count));
        }
        var inserts = finalStates.Where(r => r.ExpectedVersion == 0).ToList();
        if (inserts.Count > 0)
        {
            var cmd = Add(batch, InsertStatesSql);
            AddStateArrays(cmd, inserts);
            expected.Add((cmd, inserts.Count));
        }

        var keyed = group.Where(r => r.Records.Idempotency is not null).ToList();
        if (keyed.Count > 0)
        {
            var cmd = Add(batch, CompleteKeysOnCommitSql);
            cmd.Parameters.Add(new NpgsqlParameter<string[]>("keys", keyed.Select(r => r.Records.Idempotency!.Key).ToArray()));
            cmd.Parameters.Add(new NpgsqlParameter<string[]>("hashes", keyed.Select(r => r.Records.Idempotency!.RequestHash).ToArray()));
            cmd.Parameters.Add(new NpgsqlParameter<int[]>("statuses", keyed.Select(r => r.Records.Idempotency!.StatusCode).ToArray()));
            cmd.Parameters.Add(new NpgsqlParameter<string[]>("responses", keyed.Select(r => r.Records.Idempotency!.ResponseBody).ToArray()));
            cmd.Parameters.Add(new NpgsqlParameter<Guid[]>("txs", keyed.Select(r => r.TransactionId).ToArray()));
            expected.Add((cmd, keyed.Count));
        }

        // Each entry carries its own transaction id (ValidateGroup checked it is its request's).
        var entries = group.SelectMany(r => r.Records.Entries).ToList();
        if (entries.Count > 0)
        {
            expected.Add((AddEntries(batch, entries), entries.Count));
        }

        var headers = group.Count(r => r.Records.Header is not null);
        if (headers > 0) expected.Add((AddHeaders(batch, group), headers));
        var events = group.Sum(r => r.Records.Events.Count);
        if (events > 0) expected.Add((AddEvents(batch, group), events));

        foreach (var (command, rows) in expected) Checked(command, rows);
        Interlocked.Increment(ref _atOnceAttempts);
        Interlocked.Add(ref _atOnceStatements, batch.BatchCommands.Count);
        // Whatever the server refused (a count check, a constraint, a key twice in the group, a deadlock
        // with another group...), nothing is committed, and the careful path decides request by request.
        if (await RunAsOneTransactionAsync(connection, batch, ct).ConfigureAwait(false) is not null) return null;
        Interlocked.Increment(ref _atOnceCommits);
        return group.Select(r => new CommitResult(r.TransactionId, CommitStatus.Committed)).ToList();
    }

    /// <summary>
    /// Runs <paramref name="batch"/> as one transaction in one round trip: BEGIN, its statements and
    /// COMMIT. Returns the server's refusal, if any: its error stopped the batch before the COMMIT took
    /// effect, and the transaction is rolled back here. Any other exception (a broken connection) leaves
    /// the outcome unknown to the caller: the COMMIT may have been carried out. With <paramref name="read"/>,
    /// the rows the statements return are handed to it.
    /// </summary>
    internal static async Task<PostgresException?> RunAsOneTransactionAsync(NpgsqlConnection connection, NpgsqlBatch batch, CancellationToken ct,
        Func<NpgsqlDataReader, Task>? read = null)
    {
        batch.BatchCommands.Insert(0, new NpgsqlBatchCommand("BEGIN ISOLATION LEVEL READ COMMITTED"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        try
        {
            if (read is null)
            {
                await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return null;
            }
            await using var reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await read(reader).ConfigureAwait(false);
            return null;
        }
        catch (PostgresException refused)
        {
            // If the connection broke meanwhile, this throws and the outcome stays unknown.
            await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return refused;
        }
    }

    /// <summary>
    /// Makes <paramref name="command"/> fail unless it changes (or, a SELECT, finds) exactly
    /// <paramref name="rows"/> rows: a data-modifying CTE whose rows are counted by bg_expect_rows
    /// (sql/postgres/006_expect_rows.sql), whose error stops the batch.
    /// </summary>
    private static void Checked(NpgsqlBatchCommand command, int rows)
    {
        // A conflict must stop this batch anyway: a plain INSERT does that with an error, and spares the
        // speculative insertion (and its extra WAL record per row) that ON CONFLICT needs. The statements
        // shared with the careful path (entries, headers, events) lose their ON CONFLICT here.
        command.CommandText = CheckedTexts.GetOrAdd(command.CommandText, static text =>
        {
            var sql = text.EndsWith(SkipConflicts, StringComparison.Ordinal) ? text[..^SkipConflicts.Length] : text;
            return sql.StartsWith("SELECT ", StringComparison.Ordinal)
                ? $"SELECT bg_expect_rows(count(*), @expected_rows) FROM ({sql}) AS found"
                : $"WITH changed AS ({sql} RETURNING 1) SELECT bg_expect_rows(count(*), @expected_rows) FROM changed";
        });
        command.Parameters.Add(new NpgsqlParameter<long>("expected_rows", rows));
    }

    // The statement texts are constants, so each checked text is built once, not once per group.
    private static readonly ConcurrentDictionary<string, string> CheckedTexts = new(StringComparer.Ordinal);

    private const string SkipConflicts = " ON CONFLICT DO NOTHING";

    /// <summary>A row as the whole group leaves it: from the first writer's expected version, <see cref="Writes"/> versions on, with the last write's payload.</summary>
    private sealed record RowWrite(string Grain, string State, long ExpectedVersion, int Writes, StateWrite Last);

    /// <summary>
    /// Each row the group writes, once, with its final state. A row several requests write (a hot
    /// account) goes from the first one's expected version straight to the version and payload the
    /// requests leave it with one after the other: one row change instead of one per request. Null
    /// when a row's writes do not follow one another (v, v+1, v+2 …): some request would be refused,
    /// and only the careful path can tell which. Sorted by row, so that concurrent groups lock shared
    /// rows in the same order (fewer deadlocks).
    /// </summary>
    private static List<RowWrite>? FinalStates(IReadOnlyList<CommitRequest> group)
    {
        var rows = new Dictionary<(string Grain, string State), RowWrite>();
        foreach (var write in group.SelectMany(r => r.Writes))
        {
            var key = (Grain: write.GrainId.ToString(), State: write.StateName);
            if (!rows.TryGetValue(key, out var row))
                rows[key] = new RowWrite(key.Grain, key.State, write.ExpectedVersion, 1, write);
            else if (write.ExpectedVersion == row.Last.NewVersion)
                rows[key] = row with { Writes = row.Writes + 1, Last = write };
            else
                return null;
        }
        return rows.Values
            .OrderBy(r => r.Grain, StringComparer.Ordinal)
            .ThenBy(r => r.State, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Inserts <paramref name="entries"/> (of one request or of a whole group) in one statement.</summary>
    private NpgsqlBatchCommand AddEntries(NpgsqlBatch batch, IReadOnlyList<JournalEntry> entries)
    {
        var cmd = Add(batch, InsertEntriesSql);
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("accounts", entries.Select(x => x.AccountId).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<long[]>("sequences", entries.Select(x => x.Sequence).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]>("txs", entries.Select(x => x.TransactionId).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("currencies", entries.Select(x => x.Currency).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<decimal[]>("amounts", entries.Select(x => x.Amount).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<decimal[]>("balances", entries.Select(x => x.BalanceAfter).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<DateTime[]>("posted", entries.Select(x => Utc(x.PostedAt)).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("previous", entries.Select(x => x.PreviousHash).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("hashes", entries.Select(x => x.Hash).ToArray()));
        return cmd;
    }

    /// <summary>Inserts the ledger headers of <paramref name="requests"/> that have one, in one statement.</summary>
    private NpgsqlBatchCommand AddHeaders(NpgsqlBatch batch, IReadOnlyList<CommitRequest> requests)
    {
        var headed = requests.Where(r => r.Records.Header is not null).ToList();
        var cmd = Add(batch, InsertHeadersSql);
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]>("txs", headed.Select(r => r.TransactionId).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("kinds", headed.Select(r => r.Records.Header!.Kind).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<string?[]>("references", headed.Select(r => r.Records.Header!.Reference).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("details", NpgsqlDbType.Array | NpgsqlDbType.Jsonb)
            { TypedValue = headed.Select(r => r.Records.Header!.Details).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<DateTime[]>("created", headed.Select(r => Utc(r.Records.Header!.CreatedAt)).ToArray()));
        return cmd;
    }

    /// <summary>Inserts the outbox events of <paramref name="requests"/>, in one statement.</summary>
    private NpgsqlBatchCommand AddEvents(NpgsqlBatch batch, IReadOnlyList<CommitRequest> requests)
    {
        var events = requests.SelectMany(r => r.Records.Events.Select(e => (r.TransactionId, Event: e))).ToList();
        var cmd = Add(batch, InsertEventsSql);
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]>("events", events.Select(x => x.Event.EventId).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]>("txs", events.Select(x => x.TransactionId).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("topics", events.Select(x => x.Event.Topic).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("keys", events.Select(x => x.Event.Key).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("payloads", NpgsqlDbType.Array | NpgsqlDbType.Jsonb)
            { TypedValue = events.Select(x => x.Event.Payload).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<DateTime[]>("occurred", events.Select(x => Utc(x.Event.OccurredAt)).ToArray()));
        return cmd;
    }

    private static void AddStateArrays(NpgsqlBatchCommand cmd, List<RowWrite> rows)
    {
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("grains", rows.Select(r => r.Grain).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("states", rows.Select(r => r.State).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<int[]>("writes", rows.Select(r => r.Writes).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("payloads", NpgsqlDbType.Array | NpgsqlDbType.Jsonb)
            { TypedValue = rows.Select(r => r.Last.Payload).ToArray() });
        // Null without a writer (a single silo), as in the careful path.
        cmd.Parameters.Add(new NpgsqlParameter<string?[]>("writers", rows.Select(r => r.Last.Writer?.ToString()).ToArray()));
    }

    /// <summary>Where each statement of a request's batch is, to read its row count.</summary>
    private sealed record BatchLayout(int Commit, int FirstWrite, int Key, int Entries, int Header, int Events);

    private NpgsqlBatch BuildBatch(NpgsqlConnection connection, NpgsqlTransaction tx, CommitRequest request, bool releasePrevious, bool first, out BatchLayout layout)
    {
        var batch = new NpgsqlBatch(connection, tx);
        if (first) batch.BatchCommands.Add(new NpgsqlBatchCommand(LimitIdleInTransaction));
        if (releasePrevious) batch.BatchCommands.Add(new NpgsqlBatchCommand($"RELEASE SAVEPOINT {Savepoint}"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SAVEPOINT {Savepoint}"));
        layout = AppendRequest(batch, request);
        return batch;
    }

    /// <summary>Adds a request's statements to <paramref name="batch"/>; the layout says where each one is.</summary>
    private BatchLayout AppendRequest(NpgsqlBatch batch, CommitRequest request)
    {
        var commit = Add(batch, InsertCommitSql);
        commit.Parameters.Add(new NpgsqlParameter<Guid>("tx", request.TransactionId));
        var commitIndex = batch.BatchCommands.Count - 1;

        var firstWrite = batch.BatchCommands.Count;
        foreach (var write in request.Writes)
        {
            var fence = write.Writer is null ? "TRUE" : WriterIsAlive;
            var cmd = Add(batch, string.Format(write.ExpectedVersion == 0 ? InsertStateSql : UpdateStateSql, fence));
            cmd.Parameters.Add(new NpgsqlParameter<string>("grain", write.GrainId.ToString()));
            cmd.Parameters.Add(new NpgsqlParameter<string>("state", write.StateName));
            cmd.Parameters.Add(new NpgsqlParameter("payload", NpgsqlDbType.Jsonb) { Value = write.Payload });
            cmd.Parameters.Add(new NpgsqlParameter<string>("writer", NpgsqlDbType.Text) { TypedValue = write.Writer?.ToString() });
            if (write.ExpectedVersion != 0) cmd.Parameters.Add(new NpgsqlParameter<long>("expected", write.ExpectedVersion));
            if (write.Writer is { } w)
            {
                cmd.Parameters.Add(new NpgsqlParameter<string>("writer_host", w.Host));
                cmd.Parameters.Add(new NpgsqlParameter<int>("writer_port", w.Port));
                cmd.Parameters.Add(new NpgsqlParameter<int>("writer_generation", w.Generation));
            }
        }

        var records = request.Records;
        var keyIndex = -1;
        if (records.Idempotency is { } key)
        {
            keyIndex = batch.BatchCommands.Count;
            var cmd = Add(batch, CompleteKeyOnCommitSql);
            cmd.Parameters.Add(new NpgsqlParameter<string>("key", key.Key));
            cmd.Parameters.Add(new NpgsqlParameter<string>("hash", key.RequestHash));
            cmd.Parameters.Add(new NpgsqlParameter<int>("status", key.StatusCode));
            cmd.Parameters.Add(new NpgsqlParameter<string>("response", key.ResponseBody));
            cmd.Parameters.Add(new NpgsqlParameter<Guid>("tx", request.TransactionId));
        }

        var entriesIndex = -1;
        if (records.Entries.Count > 0)
        {
            entriesIndex = batch.BatchCommands.Count;
            AddEntries(batch, records.Entries);
        }

        var headerIndex = -1;
        if (records.Header is not null)
        {
            headerIndex = batch.BatchCommands.Count;
            AddHeaders(batch, [request]);
        }

        var eventsIndex = -1;
        if (records.Events.Count > 0)
        {
            eventsIndex = batch.BatchCommands.Count;
            AddEvents(batch, [request]);
        }

        return new BatchLayout(commitIndex, firstWrite, keyIndex, entriesIndex, headerIndex, eventsIndex);
    }

    private NpgsqlBatchCommand Add(NpgsqlBatch batch, string sql)
    {
        var cmd = new NpgsqlBatchCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        batch.BatchCommands.Add(cmd);
        return cmd;
    }

    /// <summary>The first statement (in request order) that changed fewer rows than it had to decides the refusal.</summary>
    private static CommitResult Judge(NpgsqlBatch batch, BatchLayout layout, CommitRequest request)
    {
        var id = request.TransactionId;
        var commands = batch.BatchCommands;
        var records = request.Records;
        // The key first: a retry that reuses a completed key learns that, whatever else holds.
        if (layout.Key >= 0 && commands[layout.Key].RecordsAffected != 1)
            return new CommitResult(id, CommitStatus.IdempotencyKeyUsed, TransactionStoreRules.KeyUsed(records.Idempotency!.Key));
        if (commands[layout.Commit].RecordsAffected != 1)
            return new CommitResult(id, CommitStatus.AlreadyDecided, TransactionStoreRules.AlreadyDecided(id));
        for (var i = 0; i < request.Writes.Count; i++)
        {
            if (commands[layout.FirstWrite + i].RecordsAffected != 1)
                return new CommitResult(id, CommitStatus.VersionConflict, TransactionStoreRules.StateConflict(request.Writes[i], fenced: true));
        }
        if (layout.Entries >= 0 && commands[layout.Entries].RecordsAffected != records.Entries.Count)
            return new CommitResult(id, CommitStatus.VersionConflict, TransactionStoreRules.EntriesExist(records.Entries));
        if (layout.Header >= 0 && commands[layout.Header].RecordsAffected != 1)
            return new CommitResult(id, CommitStatus.VersionConflict, TransactionStoreRules.HeaderExists(id));
        if (layout.Events >= 0 && commands[layout.Events].RecordsAffected != records.Events.Count)
            return new CommitResult(id, CommitStatus.VersionConflict, TransactionStoreRules.EventsExist(records.Events));
        return new CommitResult(id, CommitStatus.Committed);
    }

    public async Task<TransactionOutcome> ResolveAsync(Guid transactionId, CancellationToken cancellationToken = default)
    {
        // Two statements in one round trip. The SELECT takes its own snapshot after the INSERT, which
        // waited for any committer holding the same key: so a committer that won is seen.
        await using var batch = _dataSource.CreateBatch();
        var insert = new NpgsqlBatchCommand(
            "INSERT INTO tx_commits (service_id, tx_id, outcome, decided_at) VALUES (@service, @tx, 'aborted', now()) ON CONFLICT DO NOTHING");
        insert.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        insert.Parameters.Add(new NpgsqlParameter<Guid>("tx", transactionId));
        batch.BatchCommands.Add(insert);
        var select = new NpgsqlBatchCommand("SELECT outcome FROM tx_commits WHERE service_id = @service AND tx_id = @tx");
        select.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        select.Parameters.Add(new NpgsqlParameter<Guid>("tx", transactionId));
        batch.BatchCommands.Add(select);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            throw new InvalidOperationException($"The outcome of transaction {transactionId} vanished while it was resolved.");
        return ParseOutcome(reader.GetString(0));
    }

    public async Task<TransactionOutcome?> ReadOutcomeAsync(Guid transactionId, CancellationToken cancellationToken = default)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT outcome FROM tx_commits WHERE service_id = @service AND tx_id = @tx");
        cmd.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("tx", transactionId));
        return await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string outcome ? ParseOutcome(outcome) : null;
    }

    internal static TransactionOutcome ParseOutcome(string outcome) => outcome switch
    {
        "committed" => TransactionOutcome.Committed,
        "aborted" => TransactionOutcome.Aborted,
        _ => throw new InvalidOperationException($"Unknown transaction outcome '{outcome}' in tx_commits."),
    };

    // ---- ILedgerStore -------------------------------------------------------------------------

    public async Task<IReadOnlyList<JournalEntry>> ReadEntriesAsync(string accountId, long afterSequence, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        await using var cmd = _dataSource.CreateCommand(
            $"SELECT {EntryColumns} FROM journal_entries WHERE service_id = @service AND account_id = @account AND sequence > @after " +
            "ORDER BY sequence LIMIT @limit");
        cmd.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        cmd.Parameters.Add(new NpgsqlParameter<string>("account", accountId));
        cmd.Parameters.Add(new NpgsqlParameter<long>("after", afterSequence));
        cmd.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        var entries = new List<JournalEntry>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) entries.Add(ReadEntry(reader));
        return entries;
    }

    public async Task<LedgerTransactionView?> ReadTransactionAsync(Guid transactionId, CancellationToken cancellationToken = default)
    {
        await using var batch = _dataSource.CreateBatch();
        var header = new NpgsqlBatchCommand(
            "SELECT tx_id, kind, reference, details::text, created_at FROM ledger_transactions WHERE service_id = @service AND tx_id = @tx");
        // COLLATE "C": the same order in every database and store, whatever the database's collation.
        var entries = new NpgsqlBatchCommand(
            $"SELECT {EntryColumns} FROM journal_entries WHERE service_id = @service AND tx_id = @tx ORDER BY account_id COLLATE \"C\", sequence");
        foreach (var cmd in new[] { header, entries })
        {
            cmd.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
            cmd.Parameters.Add(new NpgsqlParameter<Guid>("tx", transactionId));
            batch.BatchCommands.Add(cmd);
        }
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        var ledger = new LedgerTransaction(reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4));
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<JournalEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) list.Add(ReadEntry(reader));
        return new LedgerTransactionView(ledger, list);
    }

    public async Task<LedgerVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        // One statement, one snapshot, streamed in primary-key order: each account's entries arrive
        // together and in sequence order, which is all the verifier needs.
        await using var cmd = _dataSource.CreateCommand(
            $"SELECT {EntryColumns} FROM journal_entries WHERE service_id = @service ORDER BY account_id, sequence");
        cmd.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        var verifier = new LedgerVerifier();
        await using var reader = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) verifier.Add(ReadEntry(reader));
        return verifier.Finish();
    }

    private static JournalEntry ReadEntry(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetDecimal(4), r.GetDecimal(5),
        r.GetFieldValue<DateTimeOffset>(6), r.GetString(7), r.GetString(8));

    // ---- IIdempotencyStore --------------------------------------------------------------------

    public async Task<IdempotencyClaim> ClaimAsync(string key, string requestHash, Guid owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(requestHash);
        // The common case, a key never seen: claimed in a group with the other requests of the moment.
        if (await _freshKeys.TryClaimAsync(key, requestHash, owner, Utc(leaseUntil), cancellationToken).ConfigureAwait(false))
            return new IdempotencyClaim(IdempotencyClaimStatus.Claimed);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // The key exists: read it under a row lock and judge. A row deleted by a concurrent release
        // between our INSERT and SELECT: try again (rare).
        for (var attempt = 0; ; attempt++)
        {
            await using var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
            await using var batch = new NpgsqlBatch(connection, tx);
            batch.BatchCommands.Add(new NpgsqlBatchCommand(ClaimCommitsAsynchronously));
            var insert = NewKeyInsert(key, requestHash, owner, leaseUntil);
            batch.BatchCommands.Add(insert);
            var select = new NpgsqlBatchCommand(
                "SELECT request_hash, state, coalesce(lease_until > now(), false), status_code, response " +
                "FROM idempotency_keys WHERE service_id = @service AND key = @key FOR UPDATE");
            select.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
            select.Parameters.Add(new NpgsqlParameter<string>("key", key));
            batch.BatchCommands.Add(select);

            string hash, state;
            bool leased;
            int status;
            string? response;
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (attempt >= 5) throw new InvalidOperationException($"Idempotency key '{key}' could not be claimed: it keeps disappearing.");
                    continue;
                }
                hash = reader.GetString(0);
                state = reader.GetString(1);
                leased = reader.GetBoolean(2);
                status = reader.IsDBNull(3) ? 0 : reader.GetInt32(3);
                response = reader.IsDBNull(4) ? null : reader.GetString(4);
            }

            if (insert.RecordsAffected == 1)
            {
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return new IdempotencyClaim(IdempotencyClaimStatus.Claimed);
            }
            var claim = TransactionStoreRules.JudgeClaim(hash == requestHash, state == "completed", leased, status, response);
            if (claim.Status == IdempotencyClaimStatus.Claimed)
            {
                await using var takeOver = new NpgsqlCommand(
                    "UPDATE idempotency_keys SET owner = @owner, lease_until = @lease, updated_at = now() WHERE service_id = @service AND key = @key",
                    connection, tx);
                takeOver.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
                takeOver.Parameters.Add(new NpgsqlParameter<string>("key", key));
                takeOver.Parameters.Add(new NpgsqlParameter<Guid>("owner", owner));
                takeOver.Parameters.Add(new NpgsqlParameter<DateTime>("lease", Utc(leaseUntil)));
                await takeOver.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return claim;
        }
    }

    // A lost claim costs nothing: the guard that matters is the conditional completion at commit.
    internal const string ClaimCommitsAsynchronously = "SET LOCAL synchronous_commit = off";

    private NpgsqlBatchCommand NewKeyInsert(string key, string requestHash, Guid owner, DateTimeOffset leaseUntil)
    {
        var insert = new NpgsqlBatchCommand(
            "INSERT INTO idempotency_keys (service_id, key, request_hash, state, owner, lease_until, created_at, updated_at) " +
            "VALUES (@service, @key, @hash, 'in_progress', @owner, @lease, now(), now()) ON CONFLICT DO NOTHING");
        insert.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        insert.Parameters.Add(new NpgsqlParameter<string>("key", key));
        insert.Parameters.Add(new NpgsqlParameter<string>("hash", requestHash));
        insert.Parameters.Add(new NpgsqlParameter<Guid>("owner", owner));
        insert.Parameters.Add(new NpgsqlParameter<DateTime>("lease", Utc(leaseUntil)));
        return insert;
    }

    public async Task CompleteAsync(string key, Guid owner, int statusCode, string responseBody, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(responseBody);
        await using var cmd = _dataSource.CreateCommand(
            "UPDATE idempotency_keys SET state = 'completed', owner = NULL, lease_until = NULL, status_code = @status, response = @response, " +
            "updated_at = now() WHERE service_id = @service AND key = @key AND state = 'in_progress' AND owner = @owner");
        cmd.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        cmd.Parameters.Add(new NpgsqlParameter<string>("key", key));
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("owner", owner));
        cmd.Parameters.Add(new NpgsqlParameter<int>("status", statusCode));
        cmd.Parameters.Add(new NpgsqlParameter<string>("response", responseBody));
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task ReleaseAsync(string key, Guid owner, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        await using var cmd = _dataSource.CreateCommand(
            "DELETE FROM idempotency_keys WHERE service_id = @service AND key = @key AND state = 'in_progress' AND owner = @owner");
        cmd.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        cmd.Parameters.Add(new NpgsqlParameter<string>("key", key));
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("owner", owner));
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    // timestamptz wants UTC; PostgreSQL keeps microseconds, which is what JournalHash hashes.
    private static DateTime Utc(DateTimeOffset at) => JournalHash.TruncateToMicroseconds(at).UtcDateTime;
}
