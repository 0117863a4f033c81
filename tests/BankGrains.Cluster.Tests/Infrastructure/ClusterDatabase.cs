using Npgsql;

namespace BankGrains.Cluster.Tests.Infrastructure;

/// <summary>One membership row as the table holds it.</summary>
public sealed record MembershipRow(string Address, int Port, int Generation, string SiloName, string Status)
{
    /// <summary>The silo's identity as the product writes it ("127.0.0.1:port@generation", grain_state.writer).</summary>
    public string Identity => $"{Address}:{Port}@{Generation}";
}

/// <summary>A grain-state write seen by the audit trigger.</summary>
public sealed record AuditedWrite(string GrainId, long Version, string? Writer, DateTimeOffset UpdatedAt, DateTimeOffset At);

/// <summary>One audited write of an account's state: its version, the balance and the end of the journal chain it stored.</summary>
public sealed record AuditedBalance(Guid Account, long Version, decimal? Balance, long LedgerSequence, string? Writer, DateTimeOffset At);

/// <summary>A movement in the ledger (ledger_transactions), its commit record and its journal entries (account id, signed amount).</summary>
public sealed record LedgerMovement(Guid TxId, string Kind, string? Outcome, IReadOnlyList<(string Account, decimal Amount)> Entries);

/// <summary>One ledger account's journal: entries, their sum, the balance after the last one, and the last sequence number.</summary>
public sealed record JournalSummary(string Account, long Entries, decimal Sum, decimal LastBalance, long LastSequence);

/// <summary>The test's own look at the cluster's PostgreSQL database: membership rows, grain state, and an optional write audit.</summary>
public sealed class ClusterDatabase(string connectionString, string clusterId)
{
    public string ConnectionString { get; } = connectionString;

    public string ClusterId { get; } = clusterId;

    public async Task<IReadOnlyList<MembershipRow>> MembershipAsync(CancellationToken ct)
    {
        try
        {
            return await QueryAsync(
                "SELECT address, port, generation, silo_name, status FROM membership WHERE cluster_id = @cluster ORDER BY port, generation",
                r => new MembershipRow(r.GetString(0), r.GetInt32(1), r.GetInt32(2), r.GetString(3), r.GetString(4)), ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return []; // no silo has applied the schema yet
        }
    }

    /// <summary>The status of one silo incarnation and the database clock, read together.</summary>
    public async Task<(string? Status, DateTimeOffset Now)> StatusAndNowAsync(MembershipRow silo, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(
            "SELECT (SELECT status FROM membership WHERE cluster_id = @cluster AND address = @address AND port = @port AND generation = @generation), now()",
            connection);
        cmd.Parameters.AddWithValue("cluster", ClusterId);
        cmd.Parameters.AddWithValue("address", silo.Address);
        cmd.Parameters.AddWithValue("port", silo.Port);
        cmd.Parameters.AddWithValue("generation", silo.Generation);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1));
    }

    /// <summary>Account grain-state rows per last writer.</summary>
    public Task<IReadOnlyList<(string Writer, long Rows)>> AccountRowsByWriterAsync(CancellationToken ct) => QueryAsync(
        "SELECT coalesce(writer, '(none)'), count(*) FROM grain_state WHERE service_id = @cluster AND grain_id LIKE 'account/%' GROUP BY 1 ORDER BY 2 DESC",
        r => (r.GetString(0), r.GetInt64(1)), ct);

    /// <summary>grain_state rows whose last write is by <paramref name="writer"/> and later than <paramref name="after"/> (DB clock).</summary>
    public Task<IReadOnlyList<(string GrainId, long Version, DateTimeOffset UpdatedAt)>> RowsWrittenByAfterAsync(string writer, DateTimeOffset after, CancellationToken ct) =>
        QueryAsync(
            "SELECT grain_id, version, updated_at FROM grain_state WHERE service_id = @cluster AND writer = @writer AND updated_at > @after ORDER BY updated_at",
            r => (r.GetString(0), r.GetInt64(1), r.GetFieldValue<DateTimeOffset>(2)), ct,
            ("writer", writer), ("after", after));

    /// <summary>
    /// Adds, in this throwaway database only, triggers that log every grain_state insert or update
    /// (with clock_timestamp() at the row write, and the payload written) and every membership row's
    /// change to Dead. Later writes overwrite grain_state; the audit keeps every write, so a write by
    /// a dead silo shows even when a live owner overwrote it a moment later, and every balance change
    /// can be matched to the one deposit that made it.
    /// </summary>
    public async Task InstallWriteAuditAsync(CancellationToken ct)
    {
        const string sql = """
            CREATE TABLE test_write_audit (
                id bigserial PRIMARY KEY, grain_id text NOT NULL, version bigint NOT NULL, writer text,
                updated_at timestamptz NOT NULL, payload jsonb, at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE FUNCTION test_audit_write() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO test_write_audit (grain_id, version, writer, updated_at, payload) VALUES (NEW.grain_id, NEW.version, NEW.writer, NEW.updated_at, NEW.payload);
                RETURN NULL;
            END $$;
            CREATE TRIGGER test_audit_write AFTER INSERT OR UPDATE ON grain_state FOR EACH ROW EXECUTE FUNCTION test_audit_write();

            CREATE TABLE test_death_audit (
                address text NOT NULL, port integer NOT NULL, generation integer NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE FUNCTION test_audit_death() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO test_death_audit (address, port, generation) VALUES (NEW.address, NEW.port, NEW.generation);
                RETURN NULL;
            END $$;
            CREATE TRIGGER test_audit_death AFTER UPDATE ON membership FOR EACH ROW
                WHEN (NEW.status = 'Dead' AND OLD.status IS DISTINCT FROM 'Dead') EXECUTE FUNCTION test_audit_death();
            """;
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>When (clock_timestamp() inside the declaring transaction) the audit saw <paramref name="silo"/>'s row become Dead.</summary>
    public async Task<DateTimeOffset?> AuditedDeathAsync(MembershipRow silo, CancellationToken ct)
    {
        var rows = await QueryAsync(
            "SELECT min(at) FROM test_death_audit WHERE address = @address AND port = @port AND generation = @generation",
            r => r.IsDBNull(0) ? (DateTimeOffset?)null : r.GetFieldValue<DateTimeOffset>(0), ct,
            ("address", silo.Address), ("port", silo.Port), ("generation", silo.Generation));
        return rows[0];
    }

    /// <summary>Every audited grain-state write by <paramref name="writer"/>, oldest first.</summary>
    public Task<IReadOnlyList<AuditedWrite>> AuditedWritesByAsync(string writer, CancellationToken ct) => QueryAsync(
        "SELECT grain_id, version, writer, updated_at, at FROM test_write_audit WHERE writer = @writer ORDER BY at",
        r => new AuditedWrite(r.GetString(0), r.GetInt64(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetFieldValue<DateTimeOffset>(3), r.GetFieldValue<DateTimeOffset>(4)),
        ct, ("writer", writer));

    /// <summary>Every audited write of an account grain's state, per account in version order, with the balance it stored.</summary>
    public async Task<IReadOnlyList<AuditedBalance>> AuditedAccountBalancesAsync(CancellationToken ct)
    {
        var rows = await QueryAsync(
            "SELECT grain_id, version, payload -> 'balance' ->> 'amount', coalesce((payload ->> 'ledgerSequence')::bigint, 0), writer, at " +
            "FROM test_write_audit WHERE grain_id LIKE 'account/%' ORDER BY grain_id, version, id",
            r => (GrainId: r.GetString(0), Version: r.GetInt64(1), Balance: r.IsDBNull(2) ? null : r.GetString(2), Sequence: r.GetInt64(3),
                  Writer: r.IsDBNull(4) ? null : r.GetString(4), At: r.GetFieldValue<DateTimeOffset>(5)), ct);
        return rows.Select(r => new AuditedBalance(
            Guid.Parse(r.GrainId[(r.GrainId.LastIndexOf('/') + 1)..]), r.Version,
            r.Balance is null ? null : decimal.Parse(r.Balance, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture),
            r.Sequence, r.Writer, r.At)).ToList();
    }

    /// <summary>The amount of every journal entry of this cluster, by account (Guid "D" string or "cash:USD") and sequence number.</summary>
    public async Task<IReadOnlyDictionary<(string Account, long Sequence), decimal>> JournalAmountsAsync(CancellationToken ct) =>
        (await QueryAsync("SELECT account_id, sequence, amount FROM journal_entries WHERE service_id = @cluster",
            r => (Account: r.GetString(0), Sequence: r.GetInt64(1), Amount: r.GetDecimal(2)), ct))
        .ToDictionary(e => (e.Account, e.Sequence), e => e.Amount);

    /// <summary>Every movement of the ledger of this cluster, with its outcome in tx_commits and its journal entries.</summary>
    public async Task<IReadOnlyList<LedgerMovement>> LedgerMovementsAsync(CancellationToken ct)
    {
        var rows = await QueryAsync(
            "SELECT lt.tx_id, lt.kind, c.outcome, je.account_id, je.amount FROM ledger_transactions lt " +
            "LEFT JOIN tx_commits c ON c.service_id = lt.service_id AND c.tx_id = lt.tx_id " +
            "LEFT JOIN journal_entries je ON je.service_id = lt.service_id AND je.tx_id = lt.tx_id " +
            "WHERE lt.service_id = @cluster ORDER BY lt.tx_id, je.account_id",
            r => (TxId: r.GetGuid(0), Kind: r.GetString(1), Outcome: r.IsDBNull(2) ? null : r.GetString(2),
                  Account: r.IsDBNull(3) ? null : r.GetString(3), Amount: r.IsDBNull(4) ? 0m : r.GetDecimal(4)), ct);
        return rows.GroupBy(r => r.TxId).Select(g => new LedgerMovement(g.Key, g.First().Kind, g.First().Outcome,
            g.Where(r => r.Account is not null).Select(r => (r.Account!, r.Amount)).ToList())).ToList();
    }

    /// <summary>Every ledger account's journal in this cluster (customer accounts by their Guid "D" string, the bank's cash accounts as "cash:USD").</summary>
    public Task<IReadOnlyList<JournalSummary>> JournalSummariesAsync(CancellationToken ct) => QueryAsync(
        "SELECT account_id, count(*), sum(amount), (array_agg(balance_after ORDER BY sequence DESC))[1], max(sequence) " +
        "FROM journal_entries WHERE service_id = @cluster GROUP BY account_id ORDER BY account_id",
        r => new JournalSummary(r.GetString(0), r.GetInt64(1), r.GetDecimal(2), r.GetDecimal(3), r.GetInt64(4)), ct);

    /// <summary>Journal entries of this cluster whose transaction has no ledger header or no 'committed' record: money no commit explains.</summary>
    public Task<IReadOnlyList<(Guid TxId, string Account, decimal Amount, string? Outcome)>> UnexplainedJournalEntriesAsync(CancellationToken ct) => QueryAsync(
        "SELECT je.tx_id, je.account_id, je.amount, c.outcome FROM journal_entries je " +
        "LEFT JOIN ledger_transactions lt ON lt.service_id = je.service_id AND lt.tx_id = je.tx_id " +
        "LEFT JOIN tx_commits c ON c.service_id = je.service_id AND c.tx_id = je.tx_id " +
        "WHERE je.service_id = @cluster AND (lt.tx_id IS NULL OR c.outcome IS DISTINCT FROM 'committed') ORDER BY je.tx_id",
        r => (r.GetGuid(0), r.GetString(1), r.GetDecimal(2), r.IsDBNull(3) ? null : r.GetString(3)), ct);

    private async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, connection);
        cmd.Parameters.AddWithValue("cluster", ClusterId);
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct)) rows.Add(read(reader));
        return rows;
    }
}
