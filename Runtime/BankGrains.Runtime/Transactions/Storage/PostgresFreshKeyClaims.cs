using Npgsql;

namespace BankGrains.Runtime.Transactions;

/// <summary>
/// Claims of idempotency keys not seen before, written in groups: every claim that arrives while a
/// group is being written goes into the next one, so one INSERT and one COMMIT serve many requests.
/// Almost every claim is of a fresh key, and its own transaction per request cost PostgreSQL about
/// as much as the request's share of its group commit (docs/benchmarks.md). A key that exists is
/// left unchanged and reported so; the store then reads and judges it under a row lock.
/// </summary>
internal sealed class PostgresFreshKeyClaims(NpgsqlDataSource dataSource, string serviceId)
{
    // Two groups in flight: a claim arriving while one is written need not wait for it to finish.
    private const int MaxGroupsInFlight = 2;
    private const int MaxGroup = 256;

    private const string InsertFreshKeysSql =
        "INSERT INTO idempotency_keys (service_id, key, request_hash, state, owner, lease_until, created_at, updated_at) " +
        "SELECT @service, u.key, u.request_hash, 'in_progress', u.owner, u.lease_until, now(), now() " +
        "FROM unnest(@keys, @hashes, @owners, @leases) AS u(key, request_hash, owner, lease_until) " +
        "ON CONFLICT DO NOTHING RETURNING key";

    private readonly object _gate = new();
    private readonly Queue<Pending> _waiting = new();
    private int _writers;
    private long _groups;

    /// <summary>Groups written so far (for tests and diagnostics).</summary>
    internal long Groups => Interlocked.Read(ref _groups);

    /// <summary>
    /// True when <paramref name="key"/> was new and is now claimed by <paramref name="owner"/>; false
    /// when it exists, changed by nothing here. Throws when the group could not be written.
    /// </summary>
    public Task<bool> TryClaimAsync(string key, string requestHash, Guid owner, DateTime leaseUntilUtc, CancellationToken cancellationToken)
    {
        var pending = new Pending(key, requestHash, owner, leaseUntilUtc);
        bool startWriter;
        lock (_gate)
        {
            _waiting.Enqueue(pending);
            startWriter = _writers < MaxGroupsInFlight;
            if (startWriter) _writers++;
        }
        if (startWriter) _ = WriteGroupsAsync();
        // The group is shared, so one caller giving up cannot cancel it: a claim written after its
        // caller left stays until its lease runs out, as a claim whose caller died would.
        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteGroupsAsync()
    {
        while (true)
        {
            var group = new List<Pending>();
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _writers--;
                    return;
                }
                while (group.Count < MaxGroup && _waiting.TryDequeue(out var next)) group.Add(next);
            }
            await WriteAsync(group).ConfigureAwait(false);
        }
    }

    private async Task WriteAsync(List<Pending> group)
    {
        // A key twice in a group is sent once; the later ones find it claimed, as they would one group later.
        var sent = new Dictionary<string, Pending>(group.Count);
        foreach (var pending in group) sent.TryAdd(pending.Key, pending);
        var claimed = new HashSet<string>(sent.Count);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
            await using var batch = new NpgsqlBatch(connection);
            batch.BatchCommands.Add(new NpgsqlBatchCommand(PostgresTransactionStore.ClaimCommitsAsynchronously));
            var insert = new NpgsqlBatchCommand(InsertFreshKeysSql);
            insert.Parameters.Add(new NpgsqlParameter<string>("service", serviceId));
            insert.Parameters.Add(new NpgsqlParameter<string[]>("keys", sent.Values.Select(p => p.Key).ToArray()));
            insert.Parameters.Add(new NpgsqlParameter<string[]>("hashes", sent.Values.Select(p => p.RequestHash).ToArray()));
            insert.Parameters.Add(new NpgsqlParameter<Guid[]>("owners", sent.Values.Select(p => p.Owner).ToArray()));
            insert.Parameters.Add(new NpgsqlParameter<DateTime[]>("leases", sent.Values.Select(p => p.LeaseUntilUtc).ToArray()));
            batch.BatchCommands.Add(insert);
            if (await PostgresTransactionStore.RunAsOneTransactionAsync(connection, batch, CancellationToken.None, async reader =>
                {
                    while (await reader.ReadAsync().ConfigureAwait(false)) claimed.Add(reader.GetString(0));
                }).ConfigureAwait(false) is { } refused)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(refused);
            Interlocked.Increment(ref _groups);
        }
        catch (PostgresException) when (group.Count > 1)
        {
            // The database refused the group, maybe for one request's data: each claim alone, so only that one fails.
            foreach (var pending in group) await WriteAsync([pending]).ConfigureAwait(false);
            return;
        }
        catch (Exception error)
        {
            foreach (var pending in group) pending.Completion.TrySetException(error);
            return;
        }
        foreach (var pending in group)
            pending.Completion.TrySetResult(ReferenceEquals(sent[pending.Key], pending) && claimed.Contains(pending.Key));
    }

    private sealed class Pending(string key, string requestHash, Guid owner, DateTime leaseUntilUtc)
    {
        public string Key { get; } = key;
        public string RequestHash { get; } = requestHash;
        public Guid Owner { get; } = owner;
        public DateTime LeaseUntilUtc { get; } = leaseUntilUtc;
        public TaskCompletionSource<bool> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
