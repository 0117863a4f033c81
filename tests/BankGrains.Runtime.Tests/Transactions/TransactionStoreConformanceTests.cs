using System.Globalization;
using System.Text.Json.Nodes;
using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Storage;
using BankGrains.Runtime.Tests.Persistence;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

/// <summary>
/// The contract of <see cref="ITransactionStore"/>, <see cref="ILedgerStore"/> and <see cref="IIdempotencyStore"/>,
/// run against every provider. A concrete class says how to create the store (one object implementing
/// the three) with the grain storage that reads the same states, and how to tamper with or count rows
/// that the contract gives no access to. Each test has its own service id.
/// </summary>
public abstract class TransactionStoreConformanceTests : IAsyncLifetime
{
    protected const string StateName = "balance";

    protected string ServiceId { get; } = "svc-" + Guid.NewGuid().ToString("N")[..12];

    protected ITransactionStore Transactions { get; private set; } = null!;
    protected ILedgerStore Ledger { get; private set; } = null!;
    protected IIdempotencyStore Keys { get; private set; } = null!;
    protected IGrainStorage Grains { get; private set; } = null!;

    private readonly JournalBuilder _journal = new();

    /// <summary>The store under test (implementing all three interfaces) and the grain storage over the same states.</summary>
    protected abstract Task<(object Store, IGrainStorage Grains)> CreateAsync(string serviceId);

    protected virtual Task CleanupAsync() => Task.CompletedTask;

    /// <summary>Bypasses the journal's immutability: replaces the stored entry's amount and/or hash.</summary>
    protected abstract Task TamperAsync(string account, long sequence, decimal? amount = null, string? hash = null);

    /// <summary>Bypasses the journal's immutability: removes a stored entry.</summary>
    protected abstract Task DeleteEntryAsync(string account, long sequence);

    /// <summary>How many outbox events are stored for a transaction.</summary>
    protected abstract Task<int> CountOutboxAsync(Guid transactionId);

    public async Task InitializeAsync()
    {
        var (store, grains) = await CreateAsync(ServiceId);
        Transactions = (ITransactionStore)store;
        Ledger = (ILedgerStore)store;
        Keys = (IIdempotencyStore)store;
        Grains = grains;
    }

    public Task DisposeAsync() => CleanupAsync();

    // ---- commit groups ------------------------------------------------------------------------

    [Fact]
    public async Task A_committed_request_writes_its_states_entries_header_events_and_commit_record()
    {
        var (a, b) = (NewGrain(), NewGrain());
        var tx = Guid.NewGuid();
        var request = Request(tx, [Write(a, 0, 100), Write(b, 0, -100)], _journal.Transfer(tx, "A", "B", 100.00m),
            header: true, events: 2);

        var results = await Transactions.CommitAsync([request]);

        Assert.Equal([new CommitResult(tx, CommitStatus.Committed)], results);
        await AssertStateAsync(a, 1, 100);
        await AssertStateAsync(b, 1, -100);
        Assert.Equal(TransactionOutcome.Committed, await Transactions.ReadOutcomeAsync(tx));
        var view = await Ledger.ReadTransactionAsync(tx);
        Assert.NotNull(view);
        Assert.Equal(request.Records.Entries.OrderBy(e => e.AccountId, StringComparer.Ordinal), view.Entries);
        Assert.Equal(2, await CountOutboxAsync(tx));
    }

    [Fact]
    public async Task A_committed_state_is_readable_through_grain_storage_with_the_new_version_as_etag_and_writable_after()
    {
        var grain = NewGrain();
        var first = Guid.NewGuid();
        await CommitOneAsync(Request(first, [Write(grain, 0, 5)]));
        var second = Guid.NewGuid();
        await CommitOneAsync(Request(second, [Write(grain, 1, 7)]));

        var state = await AssertStateAsync(grain, 2, 7);
        // The grain storage keeps compare-and-swapping from where the transaction left it.
        state.State.Value = 8;
        await Grains.WriteStateAsync(StateName, grain, state);
        Assert.Equal("3", state.ETag);
        var third = Guid.NewGuid();
        Assert.Equal(CommitStatus.VersionConflict, (await Transactions.CommitAsync([Request(third, [Write(grain, 2, 9)])]))[0].Status);
        Assert.Equal(CommitStatus.Committed, (await Transactions.CommitAsync([Request(Guid.NewGuid(), [Write(grain, 3, 9)])]))[0].Status);
        await AssertStateAsync(grain, 4, 9);
    }

    [Fact]
    public async Task A_group_where_one_request_conflicts_commits_the_others_and_the_conflicting_one_writes_nothing()
    {
        var (a, b, c) = (NewGrain(), NewGrain(), NewGrain());
        await Grains.WriteStateAsync(StateName, b, new GrainState<CounterState>(new CounterState { Value = 1 })); // b at version 1
        var (t1, t2, t3) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var e1 = _journal.Transfer(t1, "X", "Y", 1m);
        _journal.Accept(e1);
        var e2 = _journal.Transfer(t2, "X", "Z", 2m);
        var r1 = Request(t1, [Write(a, 0, 10)], e1, header: true, events: 1);
        var r2 = Request(t2, [Write(c, 0, 30), Write(b, 5, 20)], e2, header: true, events: 1, key: Idem("k-" + t2, "h"));
        var e3 = _journal.Transfer(t3, "X", "Z", 3m); // r2 failed: r3 takes the sequences r2 would have had
        var r3 = Request(t3, [Write(c, 0, 33)], e3, header: true, events: 1);

        var results = await Transactions.CommitAsync([r1, r2, r3]);

        Assert.Equal([CommitStatus.Committed, CommitStatus.VersionConflict, CommitStatus.Committed], results.Select(r => r.Status));
        Assert.Equal([t1, t2, t3], results.Select(r => r.TransactionId));
        Assert.Contains(b.ToString(), results[1].Detail);
        Assert.Contains(StateName, results[1].Detail);
        // Nothing of r2: not even its first write, which was fine on its own.
        await AssertStateAsync(a, 1, 10);
        await AssertStateAsync(b, 1, 1);
        await AssertStateAsync(c, 1, 33);
        Assert.Null(await Transactions.ReadOutcomeAsync(t2));
        Assert.Null(await Ledger.ReadTransactionAsync(t2));
        Assert.Equal(0, await CountOutboxAsync(t2));
        Assert.Equal(IdempotencyClaimStatus.Claimed, (await Keys.ClaimAsync("k-" + t2, "h", Guid.NewGuid(), Future)).Status);
        Assert.Equal(1, await CountOutboxAsync(t3));
        Assert.Equal([t1, t3], (await Ledger.ReadEntriesAsync("X", 0, 10)).Select(e => e.TransactionId));
        Assert.True((await Ledger.VerifyAsync()).Ok);
    }

    [Fact]
    public async Task A_request_may_build_on_the_versions_and_entries_of_an_earlier_request_in_the_same_group()
    {
        var grain = NewGrain();
        var (t1, t2) = (Guid.NewGuid(), Guid.NewGuid());
        var e1 = _journal.Transfer(t1, "P", "Q", 4m);
        _journal.Accept(e1);
        var e2 = _journal.Transfer(t2, "P", "Q", 6m);

        var results = await Transactions.CommitAsync([Request(t1, [Write(grain, 0, 1)], e1), Request(t2, [Write(grain, 1, 2)], e2)]);

        Assert.All(results, r => Assert.Equal(CommitStatus.Committed, r.Status));
        await AssertStateAsync(grain, 2, 2);
        Assert.Equal([1L, 2L], (await Ledger.ReadEntriesAsync("Q", 0, 10)).Select(e => e.Sequence));
        Assert.Equal(10m, (await Ledger.ReadEntriesAsync("Q", 0, 10))[^1].BalanceAfter);
    }

    [Fact]
    public async Task Expected_version_0_on_an_existing_row_conflicts_and_a_tombstone_accepts_its_own_version()
    {
        var grain = NewGrain();
        var written = new GrainState<CounterState>(new CounterState { Value = 1 });
        await Grains.WriteStateAsync(StateName, grain, written);

        var conflict = await Transactions.CommitAsync([Request(Guid.NewGuid(), [Write(grain, 0, 99)])]);
        Assert.Equal(CommitStatus.VersionConflict, conflict[0].Status);
        await AssertStateAsync(grain, 1, 1);

        await Grains.ClearStateAsync(StateName, grain, written); // tombstone at version 2
        Assert.Equal(CommitStatus.VersionConflict, (await Transactions.CommitAsync([Request(Guid.NewGuid(), [Write(grain, 0, 5)])]))[0].Status);
        Assert.Equal(CommitStatus.Committed, (await Transactions.CommitAsync([Request(Guid.NewGuid(), [Write(grain, 2, 5)])]))[0].Status);
        await AssertStateAsync(grain, 3, 5);
    }

    [Fact]
    public async Task An_integrity_error_in_one_request_fails_that_request_alone()
    {
        var (t1, t2, t3) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var e1 = _journal.Transfer(t1, "M", "N", 1m);
        await CommitOneAsync(Request(t1, [], e1));
        _journal.Accept(e1);
        // t2 reuses sequence 1 of M, which t1 already holds: refused; t3 goes on.
        var clash = e1.Select(e => e with { TransactionId = t2 }).ToList();
        var e3 = _journal.Transfer(t3, "M", "N", 2m);
        var grain = NewGrain();

        var results = await Transactions.CommitAsync([Request(t2, [Write(grain, 0, 1)], clash), Request(t3, [], e3)]);

        Assert.Equal([CommitStatus.VersionConflict, CommitStatus.Committed], results.Select(r => r.Status));
        Assert.Contains("'M'", results[0].Detail);
        Assert.Null(await Transactions.ReadOutcomeAsync(t2));
        await AssertNoStateAsync(grain);
        Assert.Equal([t1, t3], (await Ledger.ReadEntriesAsync("M", 0, 10)).Select(e => e.TransactionId));
    }

    [Fact]
    public async Task An_empty_group_commits_nothing()
    {
        Assert.Empty(await Transactions.CommitAsync([]));
    }

    [Fact]
    public async Task Records_of_another_transaction_in_a_request_are_refused_before_anything_is_written()
    {
        var tx = Guid.NewGuid();
        var grain = NewGrain();
        var foreign = _journal.Transfer(Guid.NewGuid(), "F", "G", 1m);
        await Assert.ThrowsAsync<ArgumentException>(() => Transactions.CommitAsync([Request(tx, [Write(grain, 0, 1)], foreign)]));
        Assert.Null(await Transactions.ReadOutcomeAsync(tx));
        await AssertNoStateAsync(grain);
    }

    // ---- outcomes -----------------------------------------------------------------------------

    [Fact]
    public async Task Resolving_an_unknown_id_records_aborted_and_a_later_commit_of_it_is_already_decided_and_writes_nothing()
    {
        var tx = Guid.NewGuid();
        Assert.Null(await Transactions.ReadOutcomeAsync(tx));

        Assert.Equal(TransactionOutcome.Aborted, await Transactions.ResolveAsync(tx));
        Assert.Equal(TransactionOutcome.Aborted, await Transactions.ReadOutcomeAsync(tx));
        Assert.Equal(TransactionOutcome.Aborted, await Transactions.ResolveAsync(tx));

        var grain = NewGrain();
        var key = Idem("late-" + tx, "h");
        var results = await Transactions.CommitAsync([Request(tx, [Write(grain, 0, 1)], _journal.Transfer(tx, "L", "R", 5m), header: true, events: 1, key: key)]);

        Assert.Equal(CommitStatus.AlreadyDecided, results[0].Status);
        Assert.Contains(tx.ToString(), results[0].Detail);
        Assert.Equal(TransactionOutcome.Aborted, await Transactions.ReadOutcomeAsync(tx));
        await AssertNoStateAsync(grain);
        Assert.Null(await Ledger.ReadTransactionAsync(tx));
        Assert.Empty(await Ledger.ReadEntriesAsync("L", 0, 10));
        Assert.Equal(0, await CountOutboxAsync(tx));
        Assert.Equal(IdempotencyClaimStatus.Claimed, (await Keys.ClaimAsync(key.Key, "h", Guid.NewGuid(), Future)).Status);
    }

    [Fact]
    public async Task Resolving_a_committed_id_gives_committed_and_committing_it_again_is_already_decided()
    {
        var tx = Guid.NewGuid();
        var grain = NewGrain();
        await CommitOneAsync(Request(tx, [Write(grain, 0, 1)]));

        Assert.Equal(TransactionOutcome.Committed, await Transactions.ResolveAsync(tx));
        Assert.Equal(TransactionOutcome.Committed, await Transactions.ReadOutcomeAsync(tx));
        var again = await Transactions.CommitAsync([Request(tx, [Write(grain, 1, 2)])]);
        Assert.Equal(CommitStatus.AlreadyDecided, again[0].Status);
        await AssertStateAsync(grain, 1, 1);
    }

    // ---- idempotency keys ---------------------------------------------------------------------

    [Fact]
    public async Task Claiming_a_key_new_in_progress_with_another_body_and_completed()
    {
        var key = "key-" + Guid.NewGuid();
        var (owner, other) = (Guid.NewGuid(), Guid.NewGuid());

        Assert.Equal(new IdempotencyClaim(IdempotencyClaimStatus.Claimed), await Keys.ClaimAsync(key, "h1", owner, Future));
        Assert.Equal(new IdempotencyClaim(IdempotencyClaimStatus.InProgress), await Keys.ClaimAsync(key, "h1", other, Future));
        Assert.Equal(new IdempotencyClaim(IdempotencyClaimStatus.Mismatch), await Keys.ClaimAsync(key, "h2", other, Future));

        await Keys.CompleteAsync(key, other, 500, "not yours"); // not the holder: ignored
        Assert.Equal(IdempotencyClaimStatus.InProgress, (await Keys.ClaimAsync(key, "h1", other, Future)).Status);

        await Keys.CompleteAsync(key, owner, 422, """{"error":"insufficient funds"}""");
        Assert.Equal(new IdempotencyClaim(IdempotencyClaimStatus.Completed, 422, """{"error":"insufficient funds"}"""),
            await Keys.ClaimAsync(key, "h1", other, Future));
        Assert.Equal(new IdempotencyClaim(IdempotencyClaimStatus.Mismatch), await Keys.ClaimAsync(key, "h2", other, Future));

        await Keys.ReleaseAsync(key, owner); // completed keys are never released
        Assert.Equal(IdempotencyClaimStatus.Completed, (await Keys.ClaimAsync(key, "h1", owner, Future)).Status);
    }

    [Fact]
    public async Task A_claim_whose_lease_ran_out_is_taken_over_and_the_old_holder_loses_it()
    {
        var key = "key-" + Guid.NewGuid();
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        Assert.Equal(IdempotencyClaimStatus.Claimed, (await Keys.ClaimAsync(key, "h", first, DateTimeOffset.UtcNow.AddMinutes(-1))).Status);

        Assert.Equal(IdempotencyClaimStatus.Claimed, (await Keys.ClaimAsync(key, "h", second, Future)).Status);
        Assert.Equal(IdempotencyClaimStatus.InProgress, (await Keys.ClaimAsync(key, "h", first, Future)).Status);

        await Keys.ReleaseAsync(key, first);         // ignored: no longer the holder
        await Keys.CompleteAsync(key, first, 200, "stale");
        Assert.Equal(IdempotencyClaimStatus.InProgress, (await Keys.ClaimAsync(key, "h", first, Future)).Status);

        await Keys.CompleteAsync(key, second, 201, "created");
        Assert.Equal(new IdempotencyClaim(IdempotencyClaimStatus.Completed, 201, "created"), await Keys.ClaimAsync(key, "h", first, Future));
    }

    [Fact]
    public async Task A_released_claim_frees_the_key_for_any_request()
    {
        var key = "key-" + Guid.NewGuid();
        var owner = Guid.NewGuid();
        await Keys.ClaimAsync(key, "h", owner, Future);
        await Keys.ReleaseAsync(key, owner);
        Assert.Equal(IdempotencyClaimStatus.Claimed, (await Keys.ClaimAsync(key, "another body", Guid.NewGuid(), Future)).Status);
    }

    [Fact]
    public async Task A_commit_completes_its_key_and_a_second_commit_with_that_key_is_refused_and_writes_nothing()
    {
        var key = "key-" + Guid.NewGuid();
        var owner = Guid.NewGuid();
        Assert.Equal(IdempotencyClaimStatus.Claimed, (await Keys.ClaimAsync(key, "h", owner, Future)).Status);
        var (t1, t2) = (Guid.NewGuid(), Guid.NewGuid());
        var e1 = _journal.Transfer(t1, "I", "J", 12.34m);
        await CommitOneAsync(Request(t1, [], e1, key: Idem(key, "h", 201, """{"id":1}""")));
        _journal.Accept(e1);

        Assert.Equal(new IdempotencyClaim(IdempotencyClaimStatus.Completed, 201, """{"id":1}"""), await Keys.ClaimAsync(key, "h", Guid.NewGuid(), Future));

        var grain = NewGrain();
        var results = await Transactions.CommitAsync(
            [Request(t2, [Write(grain, 0, 1)], _journal.Transfer(t2, "I", "J", 1m), header: true, events: 1, key: Idem(key, "h", 201, """{"id":2}"""))]);
        Assert.Equal(CommitStatus.IdempotencyKeyUsed, results[0].Status);
        Assert.Contains(key, results[0].Detail);
        Assert.Null(await Transactions.ReadOutcomeAsync(t2));
        await AssertNoStateAsync(grain);
        Assert.Null(await Ledger.ReadTransactionAsync(t2));
        Assert.Single(await Ledger.ReadEntriesAsync("I", 0, 10));
        Assert.Equal(0, await CountOutboxAsync(t2));
        Assert.Equal(new IdempotencyClaim(IdempotencyClaimStatus.Completed, 201, """{"id":1}"""), await Keys.ClaimAsync(key, "h", Guid.NewGuid(), Future));
    }

    [Fact]
    public async Task A_commit_with_a_key_claimed_for_another_body_is_refused_and_one_without_any_claim_completes_it()
    {
        var claimed = "key-" + Guid.NewGuid();
        await Keys.ClaimAsync(claimed, "theirs", Guid.NewGuid(), Future);
        var refused = await Transactions.CommitAsync([Request(Guid.NewGuid(), [], key: Idem(claimed, "mine"))]);
        Assert.Equal(CommitStatus.IdempotencyKeyUsed, refused[0].Status);

        var unclaimed = "key-" + Guid.NewGuid();
        await CommitOneAsync(Request(Guid.NewGuid(), [], key: Idem(unclaimed, "mine", 200, "ok")));
        Assert.Equal(new IdempotencyClaim(IdempotencyClaimStatus.Completed, 200, "ok"), await Keys.ClaimAsync(unclaimed, "mine", Guid.NewGuid(), Future));
    }

    // ---- ledger -------------------------------------------------------------------------------

    [Fact]
    public async Task Entries_read_back_exactly_and_page_by_sequence()
    {
        var committed = new List<JournalEntry>();
        decimal[] amounts = [10.50m, 0.01m, 1234567890123.4567m, 7m, 0.10m];
        foreach (var amount in amounts)
        {
            var tx = Guid.NewGuid();
            var entries = _journal.Transfer(tx, "alpha", "beta ü/✓", amount);
            await CommitOneAsync(Request(tx, [], entries));
            _journal.Accept(entries);
            committed.AddRange(entries);
        }
        var alpha = committed.Where(e => e.AccountId == "alpha").ToList();

        var page1 = await Ledger.ReadEntriesAsync("alpha", 0, 2);
        var page2 = await Ledger.ReadEntriesAsync("alpha", page1[^1].Sequence, 2);
        var page3 = await Ledger.ReadEntriesAsync("alpha", page2[^1].Sequence, 2);
        var page4 = await Ledger.ReadEntriesAsync("alpha", page3[^1].Sequence, 2);

        Assert.Equal([1L, 2L], page1.Select(e => e.Sequence));
        Assert.Equal([3L, 4L], page2.Select(e => e.Sequence));
        Assert.Equal([5L], page3.Select(e => e.Sequence));
        Assert.Empty(page4);
        Assert.Equal(alpha, page1.Concat(page2).Concat(page3));
        // Exactly: the scale of each amount, the microseconds of each time, and the hash recomputes.
        var read = page1.Concat(page2).Concat(page3).ToList();
        Assert.Equal(amounts.Select(a => (-a).ToString(CultureInfo.InvariantCulture)), read.Select(e => e.Amount.ToString(CultureInfo.InvariantCulture)));
        Assert.Equal(alpha.Select(e => e.PostedAt.UtcTicks), read.Select(e => e.PostedAt.UtcTicks));
        Assert.All(read, e => Assert.Equal(TimeSpan.Zero, e.PostedAt.Offset));
        Assert.All(read, e => Assert.Equal(e.Hash, JournalHash.Compute(e)));
        Assert.Empty(await Ledger.ReadEntriesAsync("nobody", 0, 10));
        Assert.Equal(5, (await Ledger.ReadEntriesAsync("beta ü/✓", 0, 100)).Count);
    }

    [Fact]
    public async Task A_committed_movement_reads_back_with_its_header_and_entries()
    {
        var tx = Guid.NewGuid();
        var entries = _journal.Entries(tx, "USD", ("acc-2", 5m), ("acc-1", -7.25m), ("acc-3", 2.25m));
        var createdAt = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.FromHours(-5)).AddTicks(1234567);
        var header = new LedgerTransaction(tx, "transfer", "ref ü-1", """{"memo": "rent", "parts": [1, 2.50]}""", createdAt);
        var records = new TransactionRecords { Entries = entries, Header = header };
        await CommitOneAsync(new CommitRequest(tx, [], records));

        var view = await Ledger.ReadTransactionAsync(tx);

        Assert.NotNull(view);
        Assert.Equal(tx, view.Header.TransactionId);
        Assert.Equal("transfer", view.Header.Kind);
        Assert.Equal("ref ü-1", view.Header.Reference);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(header.Details), JsonNode.Parse(view.Header.Details)), view.Header.Details);
        Assert.Equal(JournalHash.TruncateToMicroseconds(createdAt), view.Header.CreatedAt);
        Assert.Equal(["acc-1", "acc-2", "acc-3"], view.Entries.Select(e => e.AccountId));
        Assert.Equal(entries.OrderBy(e => e.AccountId, StringComparer.Ordinal), view.Entries);

        var noReference = Guid.NewGuid();
        await CommitOneAsync(new CommitRequest(noReference, [], new TransactionRecords { Header = header with { TransactionId = noReference, Reference = null } }));
        var bare = await Ledger.ReadTransactionAsync(noReference);
        Assert.NotNull(bare);
        Assert.Null(bare.Header.Reference);
        Assert.Empty(bare.Entries);
        Assert.Null(await Ledger.ReadTransactionAsync(Guid.NewGuid()));
    }

    [Fact]
    public async Task Verify_accepts_valid_chains_and_summarises_every_account()
    {
        await CommitTransfersAsync(("A", "B", 100m, "EUR"), ("B", "C", 30.5m, "EUR"), ("C", "A", 0.5m, "EUR"), ("U1", "U2", 9.99m, "USD"));

        var verification = await Ledger.VerifyAsync();

        Assert.True(verification.Ok, string.Join("\n", verification.Problems));
        Assert.Empty(verification.Problems);
        Assert.Equal(8, verification.EntriesChecked);
        Assert.Equal(4, verification.TransactionsChecked);
        Assert.Equal(["A", "B", "C", "U1", "U2"], verification.Accounts.Select(a => a.AccountId));
        var a = verification.Accounts[0];
        Assert.Equal(new LedgerAccountSummary("A", "EUR", 2, -99.5m, _journal.HashOf("A")), a);
        Assert.Equal(69.5m, verification.Accounts[1].Balance);
        Assert.Equal("USD", verification.Accounts[4].Currency);
        Assert.Equal(9.99m, verification.Accounts[4].Balance);
    }

    [Fact]
    public async Task Verify_of_an_empty_ledger_is_ok()
    {
        var verification = await Ledger.VerifyAsync();
        Assert.True(verification.Ok);
        Assert.Equal(0, verification.EntriesChecked);
        Assert.Empty(verification.Accounts);
    }

    [Fact]
    public async Task Verify_detects_a_changed_amount()
    {
        var txs = await CommitTransfersAsync(("A", "B", 10m, "EUR"), ("A", "B", 20m, "EUR"), ("A", "B", 30m, "EUR"));
        await TamperAsync("B", 2, amount: 25m);

        var verification = await Ledger.VerifyAsync();

        Assert.False(verification.Ok);
        Assert.Contains(verification.Problems, p => p.Contains("account 'B' sequence 2", StringComparison.Ordinal) && p.Contains("hash", StringComparison.Ordinal));
        Assert.Contains(verification.Problems, p => p.Contains("account 'B' sequence 2", StringComparison.Ordinal) && p.Contains("balance", StringComparison.Ordinal));
        Assert.Contains(verification.Problems, p => p.Contains(txs[1].ToString(), StringComparison.Ordinal) && p.Contains("sum", StringComparison.Ordinal));
        Assert.DoesNotContain(verification.Problems, p => p.Contains("sequence 3", StringComparison.Ordinal)); // one bad entry, reported once
    }

    [Fact]
    public async Task Verify_detects_a_deleted_entry()
    {
        await CommitTransfersAsync(("A", "B", 10m, "EUR"), ("A", "B", 20m, "EUR"), ("A", "B", 30m, "EUR"));
        await DeleteEntryAsync("A", 2);

        var verification = await Ledger.VerifyAsync();

        Assert.False(verification.Ok);
        Assert.Contains(verification.Problems, p => p.Contains("account 'A' sequence 3", StringComparison.Ordinal) && p.Contains("missing", StringComparison.Ordinal));
        Assert.Contains(verification.Problems, p => p.Contains("account 'A' sequence 3", StringComparison.Ordinal) && p.Contains("previous hash", StringComparison.Ordinal));
        Assert.Equal(5, verification.EntriesChecked);
    }

    [Fact]
    public async Task Verify_detects_a_deleted_last_entry_through_its_unbalanced_transaction()
    {
        var txs = await CommitTransfersAsync(("A", "B", 10m, "EUR"), ("A", "B", 20m, "EUR"));
        await DeleteEntryAsync("B", 2);

        var verification = await Ledger.VerifyAsync();

        Assert.False(verification.Ok);
        Assert.Contains(verification.Problems, p => p.Contains(txs[1].ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Verify_detects_a_broken_hash()
    {
        await CommitTransfersAsync(("A", "B", 10m, "EUR"), ("A", "B", 20m, "EUR"), ("A", "B", 30m, "EUR"));
        await TamperAsync("A", 2, hash: new string('f', 64));

        var verification = await Ledger.VerifyAsync();

        Assert.False(verification.Ok);
        Assert.Contains(verification.Problems, p => p.Contains("account 'A' sequence 2", StringComparison.Ordinal) && p.Contains("stored hash", StringComparison.Ordinal));
        Assert.Contains(verification.Problems, p => p.Contains("account 'A' sequence 3", StringComparison.Ordinal) && p.Contains("previous hash", StringComparison.Ordinal));
        Assert.DoesNotContain(verification.Problems, p => p.Contains("account 'B'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Verify_detects_an_unbalanced_transaction_even_when_every_chain_holds()
    {
        await CommitTransfersAsync(("A", "B", 10m, "EUR"));
        var tx = Guid.NewGuid();
        var entries = _journal.Entries(tx, "EUR", ("A", -5m), ("B", 4.99m));
        await CommitOneAsync(Request(tx, [], entries));

        var verification = await Ledger.VerifyAsync();

        Assert.False(verification.Ok);
        var problem = Assert.Single(verification.Problems);
        Assert.Contains(tx.ToString(), problem);
        Assert.Contains("EUR", problem);
        Assert.Contains("-0.01", problem);
    }

    // ---- helpers ------------------------------------------------------------------------------

    protected static DateTimeOffset Future => DateTimeOffset.UtcNow.AddHours(1);

    protected static GrainId NewGrain() => new("account", Guid.NewGuid().ToString("N"));

    protected static StateWrite Write(GrainId grain, long expectedVersion, int value, BankGrains.Runtime.Membership.SiloAddress? writer = null) =>
        new(grain, StateName, expectedVersion, GrainStateCodec.Serialize(new CounterState { Value = value, Writer = "tx" }), writer);

    protected static IdempotencyRecord Idem(string key, string hash, int status = 200, string body = "{}") => new(key, hash, status, body);

    protected static CommitRequest Request(Guid tx, IReadOnlyList<StateWrite> writes, List<JournalEntry>? entries = null,
        bool header = false, int events = 0, IdempotencyRecord? key = null)
    {
        var records = new TransactionRecords
        {
            Entries = entries ?? [],
            Events = Enumerable.Range(0, events)
                .Select(i => new OutboxEvent(Guid.NewGuid(), "transfers", $"key-{i}", $$"""{"n": {{i}}}""", DateTimeOffset.UtcNow))
                .ToList(),
            Header = header ? new LedgerTransaction(tx, "transfer", "ref", """{"a": 1}""", DateTimeOffset.UtcNow) : null,
            Idempotency = key,
        };
        return new CommitRequest(tx, writes, records);
    }

    protected async Task CommitOneAsync(CommitRequest request)
    {
        var results = await Transactions.CommitAsync([request]);
        Assert.Equal(new CommitResult(request.TransactionId, CommitStatus.Committed), Assert.Single(results));
    }

    /// <summary>Commits one balanced transfer per item, each in its own group; returns their ids.</summary>
    protected async Task<List<Guid>> CommitTransfersAsync(params (string From, string To, decimal Amount, string Currency)[] transfers)
    {
        var ids = new List<Guid>();
        foreach (var (from, to, amount, currency) in transfers)
        {
            var tx = Guid.NewGuid();
            var entries = _journal.Transfer(tx, from, to, amount, currency);
            await CommitOneAsync(Request(tx, [], entries));
            _journal.Accept(entries);
            ids.Add(tx);
        }
        return ids;
    }

    protected async Task<GrainState<CounterState>> AssertStateAsync(GrainId grain, long version, int value)
    {
        var state = new GrainState<CounterState>(new CounterState());
        await Grains.ReadStateAsync(StateName, grain, state);
        Assert.True(state.RecordExists);
        Assert.Equal(version.ToString(CultureInfo.InvariantCulture), state.ETag);
        Assert.Equal(value, state.State.Value);
        return state;
    }

    protected async Task AssertNoStateAsync(GrainId grain)
    {
        var state = new GrainState<CounterState>(new CounterState());
        await Grains.ReadStateAsync(StateName, grain, state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
    }
}
