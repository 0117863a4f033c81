using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Transactions;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace BankGrains.Grains.Tests.Transfers;

/// <summary>
/// The database connection breaks while transfers commit. Whatever the caller was told must be true:
/// a receipt means the transfer is in the ledger, an abort means it is not, and a doubt resolves by id
/// to an outcome the ledger agrees with. Afterwards the ledger invariants hold as if nothing broke.
/// </summary>
public sealed class BrokenCommitTests(ITestOutputHelper output)
{
    private static readonly (decimal Overdraft, decimal Funding)[] Accounts =
        [(0m, 1_000m), (0m, 500m), (250m, 300m), (0m, 2_000m), (1_000m, 0m), (0m, 750m)];

    [Fact]
    public async Task Postgres_backends_killed_mid_run_leave_every_transfer_with_one_true_outcome()
    {
        var connectionString = await TransferBank.CreatePostgresDatabaseAsync("transfers_broken");
        await using var bank = await TransferBank.StartPostgresAsync(silos: 1, connectionString);
        var accounts = await bank.OpenFundedAccountsAsync(Accounts);

        // A separate, unpooled admin connection: it must not be among the connections it kills, nor be
        // killed by another kill that overlaps it (progress can reach the next kill point first).
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = Killer }.ToString();
        const int transfers = 800;
        var killAt = new[] { 100, 200, 300, 400, 500, 600, 700 };
        var kills = new List<Task<int>>();
        var attempts = await TransferWorkload.RunAsync(bank, accounts, transfers, callers: 16, seed: 4, TransferWorkload.Retry.NewOrder,
            onEnded: done =>
            {
                // Kill at fixed points of progress, while the other callers' commits are in flight.
                if (Array.IndexOf(killAt, done) >= 0) lock (kills) kills.Add(TerminateBackendsAsync(admin));
            });
        var terminated = (await Task.WhenAll(kills)).Sum();
        output.WriteLine($"{kills.Count} kills terminated {terminated} backends; " +
            string.Join(", ", attempts.GroupBy(a => a.Code?.ToString() ?? a.Fate.ToString()).Select(g => $"{g.Key} {g.Count()}")));
        Assert.Equal(killAt.Length, kills.Count);
        Assert.True(terminated > 0, "no backend connection was killed: the test proved nothing");

        var committed = new List<TransferOrder>();
        var notCommitted = new List<Guid>();
        foreach (var attempt in attempts)
        {
            var id = attempt.Order.TransferId;
            switch (attempt.Fate)
            {
                case Fate.Committed:
                    committed.Add(attempt.Order);
                    break;
                case Fate.Rejected:
                case Fate.Aborted:
                    // An abort is a promise that nothing was written, and that nothing ever will be.
                    Assert.NotEqual(TransactionOutcome.Committed, await bank.Transactions.ReadOutcomeAsync(id));
                    Assert.Null(await bank.Ledger.ReadTransactionAsync(id));
                    notCommitted.Add(id);
                    break;
                default:
                    // In doubt (or an infrastructure error): the id says what happened, for good.
                    output.WriteLine($"unknown outcome for {id}: {attempt.Error?.GetType().Name}: {attempt.Error?.Message}");
                    var outcome = await bank.TransactionClient.ResolveOutcomeAsync(id);
                    Assert.Equal(outcome, await bank.TransactionClient.ResolveOutcomeAsync(id));
                    if (outcome == TransactionOutcome.Committed) committed.Add(attempt.Order);
                    else notCommitted.Add(id);
                    break;
            }
        }
        Assert.Contains(attempts, a => a.Fate == Fate.Aborted); // some commits did break
        Assert.True(committed.Count > transfers / 2, $"only {committed.Count} of {transfers} transfers committed");

        // Participants of an in-doubt transaction settle it from the commit record after its deadline.
        if (attempts.Any(a => a.Fate == Fate.Unknown)) await SettledAsync(bank, accounts);
        await LedgerInvariants.AssertAsync(bank, accounts, committed, notCommitted);
    }

    [Fact]
    public async Task A_commit_whose_reply_is_lost_is_reported_committed_and_applied_exactly_once()
    {
        // The 300th transfer of the run below to commit (which order that is depends on timing: an
        // order can be refused for lack of funds, so no order can be named in advance).
        var transfersCommitted = 0;
        var broke = 0;
        Guid? brokenId = null;
        await using var bank = await TransferBank.StartInMemoryAsync(silos: 1, options =>
            options.TransactionStore.AfterCommit = group =>
            {
                // Everything in this group was applied; then the "connection" fails before the reply.
                var hit = group.FirstOrDefault(r => r.Records.Header?.Reference?.StartsWith("w5-", StringComparison.Ordinal) == true
                                                    && Interlocked.Increment(ref transfersCommitted) >= 300);
                if (hit is not null && Interlocked.Exchange(ref broke, 1) == 0)
                {
                    brokenId = hit.TransactionId;
                    throw new IOException("connection reset after COMMIT");
                }
            });
        var accounts = await bank.OpenFundedAccountsAsync(Accounts);

        var attempts = await TransferWorkload.RunAsync(bank, accounts, 600, callers: 12, seed: 5, TransferWorkload.Retry.NewOrder);

        output.WriteLine($"{attempts.Count(a => a.Fate == Fate.Committed)} of {attempts.Count} attempts committed; the reply of {brokenId} was lost");
        Assert.Equal(1, broke);
        var chosen = attempts.Single(a => a.Order.TransferId == brokenId);
        Assert.Equal(Fate.Committed, chosen.Fate);
        Assert.Equal(TransactionOutcome.Committed, await bank.Transactions.ReadOutcomeAsync(chosen.Order.TransferId));
        var (committed, notCommitted) = LedgerInvariants.Split(attempts);
        await LedgerInvariants.AssertAsync(bank, accounts, committed, notCommitted);
    }

    [Fact]
    public async Task A_commit_that_fails_before_applying_aborts_for_good_and_the_order_is_retried_under_a_new_id()
    {
        var transferId = Guid.NewGuid();
        var broke = 0;
        await using var bank = await TransferBank.StartInMemoryAsync(silos: 1, options =>
            options.TransactionStore.BeforeCommit = group =>
            {
                if (group.Any(r => r.TransactionId == transferId) && Interlocked.Exchange(ref broke, 1) == 0)
                    throw new IOException("connection reset before COMMIT");
            });
        var accounts = await bank.OpenFundedAccountsAsync((0m, 100m), (0m, 0m));
        var order = new TransferOrder(transferId, accounts[0].Id, accounts[1].Id, new Money(10m, Currency.USD), "retry me");

        var aborted = await Assert.ThrowsAsync<TransactionAbortedException>(() => bank.Teller(0).TransferAsync(order));
        Assert.Equal(TransactionAbortReason.StorageFailed, aborted.Reason);
        Assert.Null(await bank.Ledger.ReadTransactionAsync(transferId));
        Assert.Equal(100m, (await bank.Account(accounts[0].Id).GetAsync()).Balance.Amount);

        // The failed commit's outcome was resolved (recorded as aborted), so that id can never commit:
        // a retry under it is refused as AlreadyResolved, and the work goes through under a new id.
        var sameId = await Assert.ThrowsAsync<TransactionAbortedException>(() => bank.Teller(0).TransferAsync(order));
        Assert.Equal(TransactionAbortReason.AlreadyResolved, sameId.Reason);
        Assert.Equal(TransactionOutcome.Aborted, await bank.TransactionClient.ResolveOutcomeAsync(transferId));
        var renamed = order with { TransferId = Guid.NewGuid() };
        var retried = await TransferWorkload.SendAsync(bank.Teller(0), renamed);
        Assert.True(retried.Fate == Fate.Committed, $"the retry of an aborted order failed: {retried.Error?.Message}");
        await LedgerInvariants.AssertAsync(bank, accounts, [renamed], [order.TransferId]);
    }

    private const string Killer = "bankgrains-test-killer";

    private static async Task<int> TerminateBackendsAsync(string adminConnectionString)
    {
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync();
        await using var kill = new NpgsqlCommand(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int FROM pg_stat_activity " +
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> @killer", connection);
        kill.Parameters.AddWithValue("killer", Killer);
        return (int)(await kill.ExecuteScalarAsync())!;
    }

    /// <summary>Waits (bounded) until every account's committed state matches its journal.</summary>
    private static async Task SettledAsync(TransferBank bank, IReadOnlyList<OpenedAccount> accounts)
    {
        for (var round = 0; round < 300; round++)
        {
            var settled = true;
            foreach (var account in accounts)
            {
                var entries = await LedgerInvariants.ReadAllEntriesAsync(bank.Ledger, account.LedgerId);
                settled &= (await bank.Account(account.Id).GetAsync()).Balance.Amount == entries.Sum(e => e.Amount);
            }
            if (settled) return;
            await Task.Delay(100);
        }
    }
}
