using BankGrains.Runtime.Membership;
using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Storage;
using BankGrains.Runtime.Tests.Persistence;
using BankGrains.Runtime.Transactions;
using Npgsql;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

public sealed class PostgresTransactionStoreTests(PostgresDatabaseFixture database)
    : TransactionStoreConformanceTests, IClassFixture<PostgresDatabaseFixture>
{
    private readonly List<NpgsqlDataSource> _dataSources = [];
    private NpgsqlDataSource _dataSource = null!;

    protected override Task<(object Store, IGrainStorage Grains)> CreateAsync(string serviceId)
    {
        _dataSource = NewDataSource();
        return Task.FromResult<(object, IGrainStorage)>((new PostgresTransactionStore(_dataSource, serviceId), new PostgresGrainStorage(_dataSource, serviceId)));
    }

    protected override async Task CleanupAsync()
    {
        foreach (var dataSource in _dataSources) await dataSource.DisposeAsync();
    }

    private NpgsqlDataSource NewDataSource()
    {
        var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        _dataSources.Add(dataSource);
        return dataSource;
    }

    protected override Task TamperAsync(string account, long sequence, decimal? amount = null, string? hash = null) =>
        BypassingTriggersAsync(
            "UPDATE journal_entries SET amount = coalesce(@amount, amount), hash = coalesce(@hash, hash) " +
            "WHERE service_id = @service AND account_id = @account AND sequence = @sequence",
            cmd =>
            {
                cmd.Parameters.Add(new NpgsqlParameter<decimal?>("amount", NpgsqlTypes.NpgsqlDbType.Numeric) { TypedValue = amount });
                cmd.Parameters.Add(new NpgsqlParameter<string?>("hash", NpgsqlTypes.NpgsqlDbType.Text) { TypedValue = hash });
                cmd.Parameters.AddWithValue("account", account);
                cmd.Parameters.AddWithValue("sequence", sequence);
            });

    protected override Task DeleteEntryAsync(string account, long sequence) =>
        BypassingTriggersAsync("DELETE FROM journal_entries WHERE service_id = @service AND account_id = @account AND sequence = @sequence",
            cmd =>
            {
                cmd.Parameters.AddWithValue("account", account);
                cmd.Parameters.AddWithValue("sequence", sequence);
            });

    protected override async Task<int> CountOutboxAsync(Guid transactionId)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT COUNT(*)::int FROM outbox WHERE service_id = @service AND tx_id = @tx");
        cmd.Parameters.AddWithValue("service", ServiceId);
        cmd.Parameters.AddWithValue("tx", transactionId);
        return (int)(await cmd.ExecuteScalarAsync())!;
    }

    // Replica mode skips ordinary triggers, for this session only (the tests connect as superuser).
    private async Task BypassingTriggersAsync(string sql, Action<NpgsqlCommand> parameters)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var replica = new NpgsqlCommand("SET LOCAL session_replication_role = replica", connection, tx))
            await replica.ExecuteNonQueryAsync();
        await using (var cmd = new NpgsqlCommand(sql, connection, tx))
        {
            cmd.Parameters.AddWithValue("service", ServiceId);
            parameters(cmd);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }
        await tx.CommitAsync();
    }

    [Fact]
    public async Task The_journal_refuses_updates_deletes_and_truncation()
    {
        await CommitTransfersAsync(("A", "B", 1m, "EUR"));
        foreach (var sql in new[]
                 {
                     "UPDATE journal_entries SET amount = 0 WHERE service_id = @service",
                     "DELETE FROM journal_entries WHERE service_id = @service",
                     "TRUNCATE journal_entries",
                 })
        {
            await using var cmd = _dataSource.CreateCommand(sql);
            cmd.Parameters.AddWithValue("service", ServiceId);
            var error = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
            Assert.Contains("immutable", error.MessageText);
        }
        var verification = await Ledger.VerifyAsync();
        Assert.True(verification.Ok);
        Assert.Equal(2, verification.EntriesChecked);
    }

    [Fact]
    public async Task A_write_by_a_writer_dead_in_the_membership_table_is_a_version_conflict_and_changes_nothing()
    {
        var membership = new PostgresMembershipTable(_dataSource, ServiceId);
        await membership.InitializeAsync(CancellationToken.None);
        var writer = new SiloAddress("127.0.0.1", 30001, 7);
        var stranger = new SiloAddress("127.0.0.1", 30002, 7); // no row at all
        var now = DateTimeOffset.UtcNow;
        Assert.True(await membership.InsertRowAsync(new MembershipEntry(writer, "w", "h", SiloStatus.Active, now, now), 0));
        var grain = NewGrain();

        await CommitOneAsync(Request(Guid.NewGuid(), [Write(grain, 0, 1, writer)]));
        Assert.Equal(writer.ToString(), await WriterOfAsync(grain));
        var unknown = await Transactions.CommitAsync([Request(Guid.NewGuid(), [Write(grain, 1, 2, stranger)])]);
        Assert.Equal(CommitStatus.VersionConflict, unknown[0].Status);

        var snapshot = await membership.ReadAllAsync();
        Assert.True(await membership.UpdateRowAsync(snapshot.Find(writer)! with { Status = SiloStatus.Dead }, snapshot.Version));

        var (update, insert) = (Guid.NewGuid(), Guid.NewGuid());
        var results = await Transactions.CommitAsync(
            [Request(update, [Write(grain, 1, 2, writer)]), Request(insert, [Write(NewGrain(), 0, 1, writer)])]);

        Assert.All(results, r => Assert.Equal(CommitStatus.VersionConflict, r.Status));
        Assert.Contains(writer.ToString(), results[0].Detail);
        await AssertStateAsync(grain, 1, 1);
        Assert.Null(await Transactions.ReadOutcomeAsync(update));
        // Without a writer (a single silo) the same write goes through: the refusal was the fence's.
        await CommitOneAsync(Request(Guid.NewGuid(), [Write(grain, 1, 3)]));
        await AssertStateAsync(grain, 2, 3);
    }

    [Fact]
    public async Task Two_stores_committing_conflicting_groups_at_once_let_exactly_one_win()
    {
        var first = new PostgresTransactionStore(NewDataSource(), ServiceId);
        var second = new PostgresTransactionStore(NewDataSource(), ServiceId);
        for (var round = 0; round < 20; round++)
        {
            var grain = NewGrain();
            await CommitOneAsync(Request(Guid.NewGuid(), [Write(grain, 0, 0)]));
            var (t1, t2) = (Guid.NewGuid(), Guid.NewGuid());
            // Each group: an unrelated request that always commits, then the contested one.
            var g1 = new[] { Request(Guid.NewGuid(), [Write(NewGrain(), 0, 1)]), Request(t1, [Write(grain, 1, 1)]) };
            var g2 = new[] { Request(Guid.NewGuid(), [Write(NewGrain(), 0, 1)]), Request(t2, [Write(grain, 1, 2)]) };

            var both = await Task.WhenAll(Task.Run(() => first.CommitAsync(g1)), Task.Run(() => second.CommitAsync(g2)));

            Assert.All(both, results => Assert.Equal(CommitStatus.Committed, results[0].Status));
            var contested = both.Select(results => results[1]).ToList();
            var winner = Assert.Single(contested, r => r.Status == CommitStatus.Committed);
            Assert.Single(contested, r => r.Status == CommitStatus.VersionConflict);
            var loser = winner.TransactionId == t1 ? t2 : t1;
            await AssertStateAsync(grain, 2, winner.TransactionId == t1 ? 1 : 2);
            Assert.Equal(TransactionOutcome.Committed, await Transactions.ReadOutcomeAsync(winner.TransactionId));
            Assert.Equal(TransactionOutcome.Aborted, await Transactions.ResolveAsync(loser));
        }
    }

    [Fact]
    public async Task Resolving_while_a_commit_of_the_same_id_is_in_flight_agrees_with_the_commit()
    {
        var grain = NewGrain();
        var tx = Guid.NewGuid();
        // Hold a lock on the state row so the commit waits after inserting its commit record.
        await using var connection = await _dataSource.OpenConnectionAsync();
        await CommitOneAsync(Request(Guid.NewGuid(), [Write(grain, 0, 0)]));
        await using var blocker = await connection.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM grain_state WHERE service_id = @s AND grain_id = @g FOR UPDATE", connection, blocker))
        {
            lockRow.Parameters.AddWithValue("s", ServiceId);
            lockRow.Parameters.AddWithValue("g", grain.ToString());
            await lockRow.ExecuteNonQueryAsync();
        }

        var commit = Task.Run(() => Transactions.CommitAsync([Request(tx, [Write(grain, 1, 1)])]));
        var resolve = Task.Run(() => Transactions.ResolveAsync(tx));
        await blocker.CommitAsync();
        var committed = (await commit)[0].Status;
        var resolved = await resolve;

        // Whichever got the commit record first decided; both agree on it.
        Assert.Equal(committed == CommitStatus.Committed ? TransactionOutcome.Committed : TransactionOutcome.Aborted, resolved);
        Assert.Equal(resolved, await Transactions.ReadOutcomeAsync(tx));
    }

    private PostgresTransactionStore Store => (PostgresTransactionStore)Transactions;

    [Fact]
    public async Task A_row_written_by_three_dependent_requests_of_one_group_commits_in_one_attempt()
    {
        var (grain, fresh) = (NewGrain(), NewGrain());
        await CommitOneAsync(Request(Guid.NewGuid(), [Write(grain, 0, 0)]));
        var (t1, t2, t3) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var (attempts, commits) = (Store.AtOnceAttempts, Store.AtOnceCommits);

        // v1 -> v2 -> v3 -> v4 on one row; another row inserted by the first request and updated by the second.
        var results = await Transactions.CommitAsync(
        [
            Request(t1, [Write(grain, 1, 1), Write(fresh, 0, 10)], header: true, events: 1),
            Request(t2, [Write(fresh, 1, 11), Write(grain, 2, 2)], events: 2),
            Request(t3, [Write(grain, 3, 3)], header: true),
        ]);

        Assert.Equal([t1, t2, t3], results.Select(r => r.TransactionId));
        Assert.All(results, r => Assert.Equal(CommitStatus.Committed, r.Status));
        Assert.Equal((attempts + 1, commits + 1), (Store.AtOnceAttempts, Store.AtOnceCommits));
        await AssertStateAsync(grain, 4, 3);
        await AssertStateAsync(fresh, 2, 11);
        foreach (var tx in new[] { t1, t2, t3 }) Assert.Equal(TransactionOutcome.Committed, await Transactions.ReadOutcomeAsync(tx));
        Assert.Equal(2, await CountOutboxAsync(t2));
    }

    [Fact]
    public async Task A_request_committed_alone_takes_the_one_round_trip_path_too()
    {
        var (grain, fresh) = (NewGrain(), NewGrain());
        await CommitOneAsync(Request(Guid.NewGuid(), [Write(grain, 0, 0)]));
        var (tx, key) = (Guid.NewGuid(), "alone-" + Guid.NewGuid());
        var (attempts, commits) = (Store.AtOnceAttempts, Store.AtOnceCommits);

        var results = await Transactions.CommitAsync(
            [Request(tx, [Write(grain, 1, 1), Write(fresh, 0, 7)], header: true, events: 2, key: Idem(key, "h", 201, "alone"))]);

        Assert.Equal(CommitStatus.Committed, Assert.Single(results).Status);
        Assert.Equal((attempts + 1, commits + 1), (Store.AtOnceAttempts, Store.AtOnceCommits));
        await AssertStateAsync(grain, 2, 1);
        await AssertStateAsync(fresh, 1, 7);
        Assert.Equal(TransactionOutcome.Committed, await Transactions.ReadOutcomeAsync(tx));
        Assert.NotNull(await Ledger.ReadTransactionAsync(tx));
        Assert.Equal(2, await CountOutboxAsync(tx));
        Assert.Equal(new IdempotencyClaim(IdempotencyClaimStatus.Completed, 201, "alone"), await Keys.ClaimAsync(key, "h", Guid.NewGuid(), Future));
    }

    [Fact]
    public async Task A_hot_row_written_by_every_request_of_a_group_is_changed_once_to_its_final_version()
    {
        var (hot, other) = (NewGrain(), NewGrain());
        await CommitOneAsync(Request(Guid.NewGuid(), [Write(hot, 0, 0)]));
        await CommitOneAsync(Request(Guid.NewGuid(), [Write(other, 0, 0)]));
        var group = Enumerable.Range(1, 50)
            .Select(i => Request(Guid.NewGuid(), i == 25 ? [Write(hot, i, i), Write(other, 1, -1)] : [Write(hot, i, i)]))
            .ToList();
        var (attempts, commits, statements) = (Store.AtOnceAttempts, Store.AtOnceCommits, Store.AtOnceStatements);

        var results = await Transactions.CommitAsync(group);

        Assert.All(results, r => Assert.Equal(CommitStatus.Committed, r.Status));
        Assert.Equal((attempts + 1, commits + 1), (Store.AtOnceAttempts, Store.AtOnceCommits));
        // Timeout, commit records, one update for both rows: not one statement per request.
        Assert.Equal(3, Store.AtOnceStatements - statements);
        await AssertStateAsync(hot, 51, 50);
        await AssertStateAsync(other, 2, -1);
    }

    [Fact]
    public async Task A_group_whose_writes_to_a_row_skip_a_version_goes_request_by_request_and_only_the_stale_one_is_refused()
    {
        var grain = NewGrain();
        await CommitOneAsync(Request(Guid.NewGuid(), [Write(grain, 0, 0)]));
        var (t1, t2, t3) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var (attempts, commits) = (Store.AtOnceAttempts, Store.AtOnceCommits);

        // t2 expects version 3, which nothing before it makes; t3 builds on t1.
        var results = await Transactions.CommitAsync(
            [Request(t1, [Write(grain, 1, 1)]), Request(t2, [Write(grain, 3, 2)]), Request(t3, [Write(grain, 2, 3)])]);

        Assert.Equal([CommitStatus.Committed, CommitStatus.VersionConflict, CommitStatus.Committed], results.Select(r => r.Status));
        Assert.Equal((attempts, commits), (Store.AtOnceAttempts, Store.AtOnceCommits));
        await AssertStateAsync(grain, 3, 3);
        Assert.Null(await Transactions.ReadOutcomeAsync(t2));
    }

    [Fact]
    public async Task A_group_with_a_version_the_database_has_moved_past_is_stopped_before_its_commit_and_only_that_request_is_refused()
    {
        var (moved, other) = (NewGrain(), NewGrain());
        await CommitOneAsync(Request(Guid.NewGuid(), [Write(moved, 0, 0)]));
        await CommitOneAsync(Request(Guid.NewGuid(), [Write(moved, 1, 1)]));
        await CommitOneAsync(Request(Guid.NewGuid(), [Write(other, 0, 0)]));
        var (stale, fine) = (Guid.NewGuid(), Guid.NewGuid());
        var (attempts, commits) = (Store.AtOnceAttempts, Store.AtOnceCommits);

        // Consistent within the group, so the one-round-trip attempt is made; the database holds moved at
        // version 2, so its update changes no row, the check stops the batch before its COMMIT.
        var results = await Transactions.CommitAsync(
            [Request(stale, [Write(moved, 1, 99)], header: true, events: 1), Request(fine, [Write(other, 1, 1)], header: true)]);

        Assert.Equal((attempts + 1, commits), (Store.AtOnceAttempts, Store.AtOnceCommits));
        Assert.Equal([CommitStatus.VersionConflict, CommitStatus.Committed], results.Select(r => r.Status));
        await AssertStateAsync(moved, 2, 1);
        await AssertStateAsync(other, 2, 1);
        Assert.Null(await Transactions.ReadOutcomeAsync(stale));
        Assert.Null(await Ledger.ReadTransactionAsync(stale));
        Assert.Equal(0, await CountOutboxAsync(stale));
        Assert.Equal(TransactionOutcome.Committed, await Transactions.ReadOutcomeAsync(fine));
    }

    [Fact]
    public async Task Two_requests_of_one_group_with_the_same_idempotency_key_fall_back_and_only_the_first_commits()
    {
        var key = "same-key-" + Guid.NewGuid();
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        var (a, b) = (NewGrain(), NewGrain());
        var (attempts, commits) = (Store.AtOnceAttempts, Store.AtOnceCommits);

        var results = await Transactions.CommitAsync(
        [
            Request(first, [Write(a, 0, 1)], header: true, key: Idem(key, "h", 201, "first")),
            Request(second, [Write(b, 0, 2)], header: true, key: Idem(key, "h", 202, "second")),
        ]);

        // The optimistic attempt was made and rolled back (PostgreSQL refuses to upsert one key twice).
        Assert.Equal((attempts + 1, commits), (Store.AtOnceAttempts, Store.AtOnceCommits));
        Assert.Equal([CommitStatus.Committed, CommitStatus.IdempotencyKeyUsed], results.Select(r => r.Status));
        await AssertStateAsync(a, 1, 1);
        await AssertNoStateAsync(b);
        Assert.Equal(TransactionOutcome.Committed, await Transactions.ReadOutcomeAsync(first));
        Assert.Null(await Transactions.ReadOutcomeAsync(second));
        Assert.Null(await Ledger.ReadTransactionAsync(second));
        Assert.Equal(new IdempotencyClaim(IdempotencyClaimStatus.Completed, 201, "first"), await Keys.ClaimAsync(key, "h", Guid.NewGuid(), Future));
    }

    [Fact]
    public async Task A_group_of_200_requests_commits_with_a_few_statements_for_the_whole_group()
    {
        var membership = new PostgresMembershipTable(_dataSource, ServiceId);
        await membership.InitializeAsync(CancellationToken.None);
        var writer = new SiloAddress("127.0.0.1", 30003, 1);
        var now = DateTimeOffset.UtcNow;
        Assert.True(await membership.InsertRowAsync(new MembershipEntry(writer, "w", "h", SiloStatus.Active, now, now), 0));
        var hot = Enumerable.Range(0, 100).Select(_ => NewGrain()).ToList();
        foreach (var grain in hot) await CommitOneAsync(Request(Guid.NewGuid(), [Write(grain, 0, 0)]));

        // Each request inserts a new row and updates a hot row that the request 100 places earlier updated
        // too (two layers); its transfer chains on the entries of earlier requests of the same group.
        var journal = new JournalBuilder();
        var group = new List<CommitRequest>();
        var fresh = new List<GrainId>();
        for (var i = 0; i < 200; i++)
        {
            var tx = Guid.NewGuid();
            var entries = journal.Transfer(tx, $"acc-{i % 7}", $"acc-{(i + 1) % 7}", i + 1);
            journal.Accept(entries);
            fresh.Add(NewGrain());
            group.Add(Request(tx, [Write(fresh[i], 0, i, writer), Write(hot[i % 100], 1 + i / 100, i, writer)], entries,
                header: true, events: 1, key: i % 10 == 0 ? Idem($"k-{tx}", "h") : null));
        }
        var (attempts, commits, statements) = (Store.AtOnceAttempts, Store.AtOnceCommits, Store.AtOnceStatements);

        var results = await Transactions.CommitAsync(group);

        Assert.Equal(group.Select(r => r.TransactionId), results.Select(r => r.TransactionId));
        Assert.All(results, r => Assert.Equal(CommitStatus.Committed, r.Status));
        Assert.Equal((attempts + 1, commits + 1), (Store.AtOnceAttempts, Store.AtOnceCommits));
        // Timeout, fence, commit records, one update and one insert for all rows, keys, entries, headers, events.
        Assert.Equal(9, Store.AtOnceStatements - statements);
        for (var i = 0; i < 200; i++) await AssertStateAsync(fresh[i], 1, i);
        for (var i = 0; i < 100; i++) await AssertStateAsync(hot[i], 3, 100 + i);
        Assert.Equal(writer.ToString(), await WriterOfAsync(hot[0]));
        var verification = await Ledger.VerifyAsync();
        Assert.True(verification.Ok);
        Assert.Equal(400, verification.EntriesChecked);
        Assert.Equal(group[199].Records.Entries, (await Ledger.ReadTransactionAsync(group[199].TransactionId))!.Entries
            .OrderBy(e => e.AccountId == group[199].Records.Entries[0].AccountId ? 0 : 1));
        Assert.Equal(1, await CountOutboxAsync(group[123].TransactionId));
    }

    [Fact]
    public async Task Concurrent_claims_of_fresh_keys_are_written_in_a_few_groups_each_claimed_by_its_own_request()
    {
        var keys = Enumerable.Range(0, 200).Select(i => $"fresh-{i}-{Guid.NewGuid()}").ToList();
        var groups = Store.FreshKeyClaimGroups;

        List<Task<IdempotencyClaim>> pending;
        await using (await HoldInsertsIntoKeysAsync())
            pending = keys.Select(key => Keys.ClaimAsync(key, "h-" + key, Guid.NewGuid(), Future)).ToList();
        var claims = await Task.WhenAll(pending);

        Assert.All(claims, claim => Assert.Equal(new IdempotencyClaim(IdempotencyClaimStatus.Claimed), claim));
        // The first two claims each start a group (two in flight); the 198 that arrive meanwhile make the third.
        Assert.Equal(3, Store.FreshKeyClaimGroups - groups);
        // Each key is held for its own request: another body is refused, the same one is still running.
        Assert.Equal(IdempotencyClaimStatus.Mismatch, (await Keys.ClaimAsync(keys[17], "another body", Guid.NewGuid(), Future)).Status);
        Assert.Equal(IdempotencyClaimStatus.InProgress, (await Keys.ClaimAsync(keys[17], "h-" + keys[17], Guid.NewGuid(), Future)).Status);
    }

    [Fact]
    public async Task Concurrent_claims_of_one_fresh_key_let_exactly_one_request_hold_it()
    {
        var key = $"twice-{Guid.NewGuid()}";

        var claims = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Keys.ClaimAsync(key, "h", Guid.NewGuid(), Future)));

        Assert.Equal(1, claims.Count(c => c.Status == IdempotencyClaimStatus.Claimed));
        Assert.Equal(19, claims.Count(c => c.Status == IdempotencyClaimStatus.InProgress));
    }

    [Fact]
    public async Task A_claim_the_database_refuses_fails_alone_and_the_others_of_its_group_are_claimed()
    {
        var good = Enumerable.Range(0, 30).Select(i => $"good-{i}-{Guid.NewGuid()}").ToList();
        var bad = "nul\0inside"; // PostgreSQL text cannot hold a NUL character

        var groups = Store.FreshKeyClaimGroups;

        // Held, so that the bad claim goes into a group with 28 good ones (after two groups of one).
        List<Task<IdempotencyClaim>> claims;
        await using (await HoldInsertsIntoKeysAsync())
            claims = good.Take(15).Append(bad).Concat(good.Skip(15))
                .Select(key => Keys.ClaimAsync(key, "h", Guid.NewGuid(), Future)).ToList();

        await Assert.ThrowsAsync<PostgresException>(() => claims[15]);
        foreach (var claim in claims.Where((_, i) => i != 15))
            Assert.Equal(IdempotencyClaimStatus.Claimed, (await claim).Status);
        // Two groups of one, the refused group of 29, then its 28 good claims alone.
        Assert.Equal(2 + 28, Store.FreshKeyClaimGroups - groups);
    }

    // Claims wait while this is held (a SHARE lock on the table lets reads through and stops inserts).
    // Disposing the connection ends its transaction, and with it the lock.
    private async Task<IAsyncDisposable> HoldInsertsIntoKeysAsync()
    {
        var connection = await _dataSource.OpenConnectionAsync();
        var tx = await connection.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("LOCK TABLE idempotency_keys IN SHARE MODE", connection, tx))
            await hold.ExecuteNonQueryAsync();
        return connection;
    }

    private async Task<string?> WriterOfAsync(GrainId grain)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT writer FROM grain_state WHERE service_id = @s AND grain_id = @g");
        cmd.Parameters.AddWithValue("s", ServiceId);
        cmd.Parameters.AddWithValue("g", grain.ToString());
        return (string?)await cmd.ExecuteScalarAsync();
    }
}
