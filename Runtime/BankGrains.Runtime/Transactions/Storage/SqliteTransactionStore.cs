using System.Data;
using BankGrains.Runtime.Storage;
using Microsoft.Data.Sqlite;

namespace BankGrains.Runtime.Transactions;

/// <summary>
/// Transactions, ledger and idempotency keys in the embedded SQLite file (sql/sqlite/004_transactions.sql).
/// A commit group is one BEGIN IMMEDIATE transaction (the write lock up front, so writers queue on the
/// busy timeout instead of failing half-way; one fsync at COMMIT with synchronous=FULL); each request
/// runs inside a savepoint with the same conditional statements, in the same order, as
/// <see cref="PostgresTransactionStore"/>. SQLite has no membership rows: writers are recorded, not fenced.
/// Decimals are stored as invariant text with their scale, times as microsecond ISO-8601 text, ids as uuid text.
/// </summary>
public sealed class SqliteTransactionStore : ITransactionStore, ILedgerStore, IIdempotencyStore
{
    private const string Savepoint = "bg_request";
    private const string Now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

    private const string InsertCommitSql =
        "INSERT INTO tx_commits (service_id, tx_id, outcome, decided_at) VALUES ($service, $tx, $outcome, $now) ON CONFLICT DO NOTHING";

    private const string InsertStateSql =
        $"INSERT INTO grain_state (service_id, grain_id, state_name, version, payload, updated_at, writer) " +
        $"VALUES ($service, $grain, $state, 1, $payload, {Now}, $writer) ON CONFLICT (service_id, grain_id, state_name) DO NOTHING";

    private const string UpdateStateSql =
        $"UPDATE grain_state SET version = version + 1, payload = $payload, updated_at = {Now}, writer = $writer " +
        $"WHERE service_id = $service AND grain_id = $grain AND state_name = $state AND version = $expected";

    private const string CompleteKeyOnCommitSql =
        "INSERT INTO idempotency_keys (service_id, key, request_hash, state, owner, lease_until, status_code, response, tx_id, created_at, updated_at) " +
        "VALUES ($service, $key, $hash, 'completed', NULL, NULL, $status, $response, $tx, $now, $now) " +
        "ON CONFLICT (service_id, key) DO UPDATE SET state = 'completed', owner = NULL, lease_until = NULL, " +
        "status_code = excluded.status_code, response = excluded.response, tx_id = excluded.tx_id, updated_at = excluded.updated_at " +
        "WHERE idempotency_keys.state <> 'completed' AND idempotency_keys.request_hash = excluded.request_hash";

    private const string InsertEntrySql =
        "INSERT INTO journal_entries (service_id, account_id, sequence, tx_id, currency, amount, balance_after, posted_at, previous_hash, hash) " +
        "VALUES ($service, $account, $sequence, $tx, $currency, $amount, $balance, $posted, $previous, $hash) ON CONFLICT DO NOTHING";

    private const string InsertHeaderSql =
        "INSERT INTO ledger_transactions (service_id, tx_id, kind, reference, details, created_at) " +
        "VALUES ($service, $tx, $kind, $reference, $details, $created) ON CONFLICT DO NOTHING";

    private const string InsertEventSql =
        "INSERT INTO outbox (service_id, event_id, tx_id, topic, key, payload, occurred_at) " +
        "VALUES ($service, $event, $tx, $topic, $key, $payload, $occurred) ON CONFLICT DO NOTHING";

    private const string SelectOutcomeSql = "SELECT outcome FROM tx_commits WHERE service_id = $service AND tx_id = $tx";

    private const string EntryColumns = "tx_id, account_id, sequence, currency, amount, balance_after, posted_at, previous_hash, hash";

    private const int SqliteConstraint = 19;

    private readonly SqliteDatabase _database;
    private readonly string _serviceId;

    public SqliteTransactionStore(SqliteDatabase database, string serviceId)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrEmpty(serviceId);
        _database = database;
        _serviceId = serviceId;
    }

    // ---- ITransactionStore --------------------------------------------------------------------

    public async Task<IReadOnlyList<CommitResult>> CommitAsync(IReadOnlyList<CommitRequest> group, CancellationToken cancellationToken = default)
    {
        TransactionStoreRules.ValidateGroup(group);
        if (group.Count == 0) return [];

        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = connection.BeginTransaction(deferred: false); // BEGIN IMMEDIATE
        var results = new List<CommitResult>(group.Count);
        foreach (var request in group)
        {
            await tx.SaveAsync(Savepoint, cancellationToken).ConfigureAwait(false);
            CommitResult result;
            try
            {
                result = await ApplyAsync(connection, tx, request, cancellationToken).ConfigureAwait(false);
            }
            catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
            {
                result = new CommitResult(request.TransactionId, CommitStatus.VersionConflict, TransactionStoreRules.Integrity(e.Message));
            }
            if (result.Status != CommitStatus.Committed) await tx.RollbackAsync(Savepoint, cancellationToken).ConfigureAwait(false);
            await tx.ReleaseAsync(Savepoint, cancellationToken).ConfigureAwait(false);
            results.Add(result);
        }
        // A failure from here on propagates: the caller cannot know the outcome and must resolve each id.
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return results;
    }

    /// <summary>The request's statements, checked in the same order as the other stores; the first that changes too few rows refuses it.</summary>
    private async Task<CommitResult> ApplyAsync(SqliteConnection connection, SqliteTransaction tx, CommitRequest request, CancellationToken ct)
    {
        var id = request.TransactionId;
        var now = TransactionStoreRules.FormatTime(DateTimeOffset.UtcNow);
        // The key first: a retry that reuses a completed key learns that, whatever else holds.
        var records = request.Records;
        if (records.Idempotency is { } key)
        {
            await using var cmd = Command(connection, tx, CompleteKeyOnCommitSql);
            cmd.Parameters.AddWithValue("$key", key.Key);
            cmd.Parameters.AddWithValue("$hash", key.RequestHash);
            cmd.Parameters.AddWithValue("$status", (long)key.StatusCode);
            cmd.Parameters.AddWithValue("$response", key.ResponseBody);
            cmd.Parameters.AddWithValue("$tx", Id(id));
            cmd.Parameters.AddWithValue("$now", now);
            if (await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
                return new CommitResult(id, CommitStatus.IdempotencyKeyUsed, TransactionStoreRules.KeyUsed(key.Key));
        }

        await using (var cmd = Command(connection, tx, InsertCommitSql))
        {
            cmd.Parameters.AddWithValue("$tx", Id(id));
            cmd.Parameters.AddWithValue("$outcome", "committed");
            cmd.Parameters.AddWithValue("$now", now);
            if (await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
                return new CommitResult(id, CommitStatus.AlreadyDecided, TransactionStoreRules.AlreadyDecided(id));
        }

        foreach (var write in request.Writes)
        {
            await using var cmd = Command(connection, tx, write.ExpectedVersion == 0 ? InsertStateSql : UpdateStateSql);
            cmd.Parameters.AddWithValue("$grain", write.GrainId.ToString());
            cmd.Parameters.AddWithValue("$state", write.StateName);
            cmd.Parameters.AddWithValue("$payload", write.Payload);
            cmd.Parameters.AddWithValue("$writer", (object?)write.Writer?.ToString() ?? DBNull.Value);
            if (write.ExpectedVersion != 0) cmd.Parameters.AddWithValue("$expected", write.ExpectedVersion);
            if (await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
                return new CommitResult(id, CommitStatus.VersionConflict, TransactionStoreRules.StateConflict(write, fenced: false));
        }

        if (records.Entries.Count > 0)
        {
            // One prepared statement, run per entry: in-process, so there are no round trips to save.
            await using var cmd = Command(connection, tx, InsertEntrySql);
            var account = cmd.Parameters.Add("$account", SqliteType.Text);
            var sequence = cmd.Parameters.Add("$sequence", SqliteType.Integer);
            var entryTx = cmd.Parameters.Add("$tx", SqliteType.Text);
            var currency = cmd.Parameters.Add("$currency", SqliteType.Text);
            var amount = cmd.Parameters.Add("$amount", SqliteType.Text);
            var balance = cmd.Parameters.Add("$balance", SqliteType.Text);
            var posted = cmd.Parameters.Add("$posted", SqliteType.Text);
            var previous = cmd.Parameters.Add("$previous", SqliteType.Text);
            var hash = cmd.Parameters.Add("$hash", SqliteType.Text);
            foreach (var e in records.Entries)
            {
                account.Value = e.AccountId;
                sequence.Value = e.Sequence;
                entryTx.Value = Id(e.TransactionId);
                currency.Value = e.Currency;
                amount.Value = TransactionStoreRules.FormatDecimal(e.Amount);
                balance.Value = TransactionStoreRules.FormatDecimal(e.BalanceAfter);
                posted.Value = TransactionStoreRules.FormatTime(e.PostedAt);
                previous.Value = e.PreviousHash;
                hash.Value = e.Hash;
                if (await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
                    return new CommitResult(id, CommitStatus.VersionConflict, TransactionStoreRules.EntriesExist(records.Entries));
            }
        }

        if (records.Header is { } header)
        {
            await using var cmd = Command(connection, tx, InsertHeaderSql);
            cmd.Parameters.AddWithValue("$tx", Id(id));
            cmd.Parameters.AddWithValue("$kind", header.Kind);
            cmd.Parameters.AddWithValue("$reference", (object?)header.Reference ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$details", header.Details);
            cmd.Parameters.AddWithValue("$created", TransactionStoreRules.FormatTime(header.CreatedAt));
            if (await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
                return new CommitResult(id, CommitStatus.VersionConflict, TransactionStoreRules.HeaderExists(id));
        }

        if (records.Events.Count > 0)
        {
            await using var cmd = Command(connection, tx, InsertEventSql);
            cmd.Parameters.AddWithValue("$tx", Id(id));
            var eventId = cmd.Parameters.Add("$event", SqliteType.Text);
            var topic = cmd.Parameters.Add("$topic", SqliteType.Text);
            var eventKey = cmd.Parameters.Add("$key", SqliteType.Text);
            var payload = cmd.Parameters.Add("$payload", SqliteType.Text);
            var occurred = cmd.Parameters.Add("$occurred", SqliteType.Text);
            foreach (var ev in records.Events)
            {
                eventId.Value = Id(ev.EventId);
                topic.Value = ev.Topic;
                eventKey.Value = ev.Key;
                payload.Value = ev.Payload;
                occurred.Value = TransactionStoreRules.FormatTime(ev.OccurredAt);
                if (await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
                    return new CommitResult(id, CommitStatus.VersionConflict, TransactionStoreRules.EventsExist(records.Events));
            }
        }
        return new CommitResult(id, CommitStatus.Committed);
    }

    public async Task<TransactionOutcome> ResolveAsync(Guid transactionId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (var insert = Command(connection, null, InsertCommitSql))
        {
            insert.Parameters.AddWithValue("$tx", Id(transactionId));
            insert.Parameters.AddWithValue("$outcome", "aborted");
            insert.Parameters.AddWithValue("$now", TransactionStoreRules.FormatTime(DateTimeOffset.UtcNow));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        return await ReadOutcomeAsync(connection, transactionId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The outcome of transaction {transactionId} vanished while it was resolved.");
    }

    public async Task<TransactionOutcome?> ReadOutcomeAsync(Guid transactionId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadOutcomeAsync(connection, transactionId, cancellationToken).ConfigureAwait(false);
    }

    private async Task<TransactionOutcome?> ReadOutcomeAsync(SqliteConnection connection, Guid transactionId, CancellationToken ct)
    {
        await using var cmd = Command(connection, null, SelectOutcomeSql);
        cmd.Parameters.AddWithValue("$tx", Id(transactionId));
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is string outcome ? PostgresTransactionStore.ParseOutcome(outcome) : null;
    }

    // ---- ILedgerStore -------------------------------------------------------------------------

    public async Task<IReadOnlyList<JournalEntry>> ReadEntriesAsync(string accountId, long afterSequence, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(connection, null,
            $"SELECT {EntryColumns} FROM journal_entries WHERE service_id = $service AND account_id = $account AND sequence > $after " +
            "ORDER BY sequence LIMIT $limit");
        cmd.Parameters.AddWithValue("$account", accountId);
        cmd.Parameters.AddWithValue("$after", afterSequence);
        cmd.Parameters.AddWithValue("$limit", (long)limit);
        return await ReadEntriesAsync(cmd, cancellationToken).ConfigureAwait(false);
    }

    public async Task<LedgerTransactionView?> ReadTransactionAsync(Guid transactionId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // One read transaction, so header and entries come from the same snapshot.
        await using var tx = connection.BeginTransaction(IsolationLevel.Serializable, deferred: true);
        LedgerTransaction header;
        await using (var cmd = Command(connection, tx,
            "SELECT tx_id, kind, reference, details, created_at FROM ledger_transactions WHERE service_id = $service AND tx_id = $tx"))
        {
            cmd.Parameters.AddWithValue("$tx", Id(transactionId));
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
            header = new LedgerTransaction(Guid.Parse(reader.GetString(0)), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetString(3), TransactionStoreRules.ParseTime(reader.GetString(4)));
        }
        await using var entries = Command(connection, tx,
            $"SELECT {EntryColumns} FROM journal_entries WHERE service_id = $service AND tx_id = $tx ORDER BY account_id, sequence");
        entries.Parameters.AddWithValue("$tx", Id(transactionId));
        return new LedgerTransactionView(header, await ReadEntriesAsync(entries, cancellationToken).ConfigureAwait(false));
    }

    public async Task<LedgerVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(connection, null,
            $"SELECT {EntryColumns} FROM journal_entries WHERE service_id = $service ORDER BY account_id, sequence");
        var verifier = new LedgerVerifier();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) verifier.Add(ReadEntry(reader));
        return verifier.Finish();
    }

    private static async Task<IReadOnlyList<JournalEntry>> ReadEntriesAsync(SqliteCommand cmd, CancellationToken ct)
    {
        var entries = new List<JournalEntry>();
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) entries.Add(ReadEntry(reader));
        return entries;
    }

    private static JournalEntry ReadEntry(SqliteDataReader r) => new(
        Guid.Parse(r.GetString(0)), r.GetString(1), r.GetInt64(2), r.GetString(3),
        TransactionStoreRules.ParseDecimal(r.GetString(4)), TransactionStoreRules.ParseDecimal(r.GetString(5)),
        TransactionStoreRules.ParseTime(r.GetString(6)), r.GetString(7), r.GetString(8));

    // ---- IIdempotencyStore --------------------------------------------------------------------

    public async Task<IdempotencyClaim> ClaimAsync(string key, string requestHash, Guid owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(requestHash);
        var now = DateTimeOffset.UtcNow;
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = connection.BeginTransaction(deferred: false); // the write lock: read and decide without a race
        string hash, state;
        string? lease, response;
        long status;
        await using (var select = Command(connection, tx,
            "SELECT request_hash, state, lease_until, status_code, response FROM idempotency_keys WHERE service_id = $service AND key = $key"))
        {
            select.Parameters.AddWithValue("$key", key);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                await reader.DisposeAsync().ConfigureAwait(false);
                await using var insert = Command(connection, tx,
                    "INSERT INTO idempotency_keys (service_id, key, request_hash, state, owner, lease_until, created_at, updated_at) " +
                    "VALUES ($service, $key, $hash, 'in_progress', $owner, $lease, $now, $now)");
                insert.Parameters.AddWithValue("$key", key);
                insert.Parameters.AddWithValue("$hash", requestHash);
                insert.Parameters.AddWithValue("$owner", Id(owner));
                insert.Parameters.AddWithValue("$lease", TransactionStoreRules.FormatTime(leaseUntil));
                insert.Parameters.AddWithValue("$now", TransactionStoreRules.FormatTime(now));
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return new IdempotencyClaim(IdempotencyClaimStatus.Claimed);
            }
            hash = reader.GetString(0);
            state = reader.GetString(1);
            lease = reader.IsDBNull(2) ? null : reader.GetString(2);
            status = reader.IsDBNull(3) ? 0 : reader.GetInt64(3);
            response = reader.IsDBNull(4) ? null : reader.GetString(4);
        }

        var leaseRunning = lease is not null && TransactionStoreRules.ParseTime(lease) > now;
        var claim = TransactionStoreRules.JudgeClaim(hash == requestHash, state == "completed", leaseRunning, (int)status, response);
        if (claim.Status == IdempotencyClaimStatus.Claimed)
        {
            await using var takeOver = Command(connection, tx,
                "UPDATE idempotency_keys SET owner = $owner, lease_until = $lease, updated_at = $now WHERE service_id = $service AND key = $key");
            takeOver.Parameters.AddWithValue("$key", key);
            takeOver.Parameters.AddWithValue("$owner", Id(owner));
            takeOver.Parameters.AddWithValue("$lease", TransactionStoreRules.FormatTime(leaseUntil));
            takeOver.Parameters.AddWithValue("$now", TransactionStoreRules.FormatTime(now));
            await takeOver.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return claim;
    }

    public async Task CompleteAsync(string key, Guid owner, int statusCode, string responseBody, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(responseBody);
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(connection, null,
            "UPDATE idempotency_keys SET state = 'completed', owner = NULL, lease_until = NULL, status_code = $status, response = $response, " +
            "updated_at = $now WHERE service_id = $service AND key = $key AND state = 'in_progress' AND owner = $owner");
        cmd.Parameters.AddWithValue("$key", key);
        cmd.Parameters.AddWithValue("$owner", Id(owner));
        cmd.Parameters.AddWithValue("$status", (long)statusCode);
        cmd.Parameters.AddWithValue("$response", responseBody);
        cmd.Parameters.AddWithValue("$now", TransactionStoreRules.FormatTime(DateTimeOffset.UtcNow));
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task ReleaseAsync(string key, Guid owner, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(connection, null,
            "DELETE FROM idempotency_keys WHERE service_id = $service AND key = $key AND state = 'in_progress' AND owner = $owner");
        cmd.Parameters.AddWithValue("$key", key);
        cmd.Parameters.AddWithValue("$owner", Id(owner));
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private SqliteCommand Command(SqliteConnection connection, SqliteTransaction? tx, string sql)
    {
        var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$service", _serviceId);
        return cmd;
    }

    private static string Id(Guid id) => id.ToString("D");
}
