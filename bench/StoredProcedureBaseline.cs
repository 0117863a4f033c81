using BankGrains.Runtime.Hosting;
using Npgsql;

namespace BankGrains.Bench;

/// <summary>
/// The baseline every transfer figure is compared with: the same transfer as one plain PostgreSQL
/// function call — lock both account rows (in id order, so concurrent calls cannot deadlock), update
/// both balances, insert two journal rows — made with Npgsql at the same concurrency, on the same
/// server (its own database), each call its own committed transaction (fsync and synchronous_commit on).
/// </summary>
public sealed class StoredProcedureBaseline : IAsyncDisposable
{
    private const string Schema = """
        CREATE TABLE bench_accounts (id int PRIMARY KEY, balance numeric(20,4) NOT NULL);
        CREATE TABLE bench_journal (
            id bigserial PRIMARY KEY,
            transfer_id uuid NOT NULL,
            account_id int NOT NULL,
            amount numeric(20,4) NOT NULL,
            balance_after numeric(20,4) NOT NULL,
            posted_at timestamptz NOT NULL DEFAULT now());
        CREATE FUNCTION bench_transfer(p_from int, p_to int, p_amount numeric) RETURNS uuid LANGUAGE plpgsql AS $$
        DECLARE
            t uuid := gen_random_uuid();
            from_balance numeric;
            to_balance numeric;
        BEGIN
            PERFORM 1 FROM bench_accounts WHERE id IN (p_from, p_to) ORDER BY id FOR UPDATE;
            UPDATE bench_accounts SET balance = balance - p_amount WHERE id = p_from AND balance >= p_amount
                RETURNING balance INTO from_balance;
            IF NOT FOUND THEN RAISE EXCEPTION 'insufficient funds in account %', p_from; END IF;
            UPDATE bench_accounts SET balance = balance + p_amount WHERE id = p_to RETURNING balance INTO to_balance;
            INSERT INTO bench_journal (transfer_id, account_id, amount, balance_after)
                VALUES (t, p_from, -p_amount, from_balance), (t, p_to, p_amount, to_balance);
            RETURN t;
        END $$;
        """;

    private const int MaxConnections = 64;

    private readonly NpgsqlDataSource _dataSource;

    private StoredProcedureBaseline(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>Creates the baseline database with <paramref name="accounts"/> accounts holding <paramref name="funding"/> each.</summary>
    public static async Task<StoredProcedureBaseline> CreateAsync(BenchCluster cluster, int accounts, decimal funding, int concurrency, CancellationToken ct)
    {
        // The baseline is given its best shot: the data source the silos get (statements prepared
        // automatically, no session reset on each return to the pool), and one connection per caller up
        // to MaxConnections — beyond that, more backends only slow PostgreSQL down on a small machine
        // (measured: 256 backends on 2 cores served far fewer transfers than 64), so callers wait for one.
        var connectionString = new NpgsqlConnectionStringBuilder(await cluster.Postgres.CreateDatabaseAsync("baseline", ct))
        {
            MaxPoolSize = Math.Min(concurrency, MaxConnections),
        }.ConnectionString;
        var dataSource = StorageConfiguration.CreateDataSource(connectionString);
        await using (var create = dataSource.CreateCommand(Schema)) await create.ExecuteNonQueryAsync(ct);
        await using (var fund = dataSource.CreateCommand("INSERT INTO bench_accounts SELECT g, @funding FROM generate_series(0, @n - 1) g"))
        {
            fund.Parameters.AddWithValue("funding", funding);
            fund.Parameters.AddWithValue("n", accounts);
            await fund.ExecuteNonQueryAsync(ct);
        }
        return new StoredProcedureBaseline(dataSource);
    }

    public async Task TransferAsync(int from, int to, decimal amount)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT bench_transfer($1, $2, $3)");
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = from });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = to });
        cmd.Parameters.Add(new NpgsqlParameter<decimal> { TypedValue = amount });
        await cmd.ExecuteScalarAsync().ConfigureAwait(false);
    }

    /// <summary>The baseline must conserve money too, or its figure means nothing.</summary>
    public async Task<decimal> TotalAsync()
    {
        await using var cmd = _dataSource.CreateCommand("SELECT sum(balance) FROM bench_accounts");
        return (decimal)(await cmd.ExecuteScalarAsync())!;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
