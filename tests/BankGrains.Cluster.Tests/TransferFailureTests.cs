using System.Collections.Concurrent;
using System.Globalization;
using BankGrains.Cluster.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace BankGrains.Cluster.Tests;

/// <summary>
/// Three Silo processes and an Api client process on 127.0.0.1 over one PostgreSQL database, under a
/// load of transfers between a few accounts, while the silo that coordinates them is SIGKILLed. The
/// API (a cluster client) sends every teller call to the ring owner of the teller grain, a stateless
/// worker with a single key, so one silo runs every transfer's transaction agent: that is the one
/// killed, with transfers in every phase (locking, preparing, committing). The two others carry on;
/// then the killed silo is restarted and rejoins under the load. Every transfer carries its own
/// Idempotency-Key; every answer that is not definite is asked again with the same key until it is. Then: each acknowledged transfer exists and is completed, none is applied twice, the ledger
/// holds exactly the acknowledged transfers, money is conserved and every balance is what the
/// acknowledged transfers make it, and the only 5xx answers are the documented outcome-unknown ones.
/// </summary>
public sealed class TransferFailureTests(ITestOutputHelper output)
{
    private const int AccountCount = 8;
    private const decimal Funding = 1000.00m;
    private const int Workers = 8;
    private const int Seed = 20_240_604;

    /// <summary>
    /// A short transaction timeout keeps what a dead coordinator leaves behind short-lived: locks and
    /// prepared versions are leased until the deadline, an idempotency claim for about 2 × timeout + 5 s.
    /// </summary>
    private static readonly TimeSpan TransactionTimeout = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan LoadDuration = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan BeforeKill = TimeSpan.FromSeconds(6);

    /// <summary>The load runs at least this long with the restarted silo back, however long the recovery took.</summary>
    private static readonly TimeSpan AfterRejoin = TimeSpan.FromSeconds(4);

    /// <summary>From the kill to the first completed transfer sent after it (failure detection, then the dead coordinator's leases running out).</summary>
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(20);

    /// <summary>For every open transfer to get a definite answer after the load stops: past the claim leases of the dead coordinator's requests.</summary>
    private static readonly TimeSpan SettleBound = TimeSpan.FromSeconds(30);

    /// <summary>A hard stop so that a hang fails the test instead of the run; the test normally takes 30–40 s.</summary>
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Killing_the_silo_coordinating_transfers_loses_no_acknowledged_transfer_and_applies_none_twice()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        var settings = new Dictionary<string, string>
        {
            ["Runtime__Transactions__Timeout"] = TransactionTimeout.ToString("c", CultureInfo.InvariantCulture),
        };
        await using var cluster = await ProcessCluster.CreateAsync("transfers", output, ct, settings);
        await cluster.RunAsync(async () =>
        {
            await cluster.StartAsync(silos: 3, ct);
            var accounts = await OpenAndFundAccountsAsync(cluster, ct);

            var book = new TransferBook();
            var loadStarted = DateTime.UtcNow;
            var load = TransferLoad.Start(cluster.Api, book, accounts, Workers, Seed);
            cluster.Track(load);
            cluster.Log($"transfer load started: {Workers} workers over {AccountCount} accounts for {LoadDuration.TotalSeconds} s");
            await Task.Delay(BeforeKill, ct);
            cluster.Log($"before the kill: {book.Summary()}");

            var victim = await FindCoordinatorAsync(cluster, ct);
            var killedAt = DateTime.UtcNow;
            victim.Process.Kill();
            cluster.Log($"SIGKILLed the coordinator {victim}");

            await cluster.WaitForSilosAsync(list => list.Any(s => s.Address == victim.Identity && s.Status == "dead"),
                $"the killed silo {victim.Identity} to be listed dead", TimeSpan.FromSeconds(15), ct);
            cluster.Log($"GET /cluster/silos lists the killed silo dead, {(DateTime.UtcNow - killedAt).TotalSeconds:0.00} s after the kill");
            // The two remaining silos take over: a transfer sent after the kill completes.
            var recovery = await book.WaitForCompletionSentAfterAsync(killedAt, RecoveryBound, "after the kill", ct);
            cluster.Log($"a transfer sent after the kill completed {recovery.TotalSeconds:0.00} s after it");

            // The same silo again, as a supervisor would restart it: it joins while transfers run, and takes
            // grains (accounts mid-transaction among them) back from the two that carried on.
            var restarted = await cluster.StartSiloAsync(victim.Name, victim.Port, ct);
            await cluster.WaitForSilosAsync(list => list.Any(s => s.Address == restarted.Identity && s.Status == "active"),
                $"the restarted silo {restarted.Identity} to be listed active", TimeSpan.FromSeconds(15), ct);
            var rejoinedAt = DateTime.UtcNow;
            cluster.Log($"restarted as {restarted.Identity}, {(rejoinedAt - killedAt).TotalSeconds:0.00} s after the kill");
            var rest = LoadDuration - (DateTime.UtcNow - loadStarted);
            await Task.Delay(rest > AfterRejoin ? rest : AfterRejoin, ct);
            await load.StopAsync();
            cluster.Log($"load stopped: {book.Summary()}");
            cluster.Log($"sent since the kill: {book.Summary(killedAt)}");
            cluster.Log($"sent since the rejoin: {book.Summary(rejoinedAt)}");
            cluster.Log($"at the kill: {book.InFlightAt(killedAt)}");
            cluster.Log($"silos now: {BankApi.Describe(await cluster.Api.SilosAsync(ct))}");

            // The load proved something: transfers ran before the kill, the kill cut some short, and transfers completed after it.
            Assert.True(book.Records.Any(r => r.IsCompleted && r.Answers[0].Received < killedAt), "no transfer completed before the kill");
            Assert.True(book.InFlightAnswersAt(killedAt).Count > 0, "no transfer was in flight when the coordinator was killed");
            Assert.True(book.Records.Any(r => r.IsCompleted && r.Answers[0].Sent > rejoinedAt), "no transfer sent after the rejoin completed");

            var settleStarted = DateTime.UtcNow;
            var unsettled = await book.SettleAsync(cluster.Api, SettleBound, Workers, ct);
            cluster.Log($"settled in {(DateTime.UtcNow - settleStarted).TotalSeconds:0.00} s: {book.Summary()}");
            Assert.True(unsettled.Count == 0,
                $"{unsettled.Count} transfers had no definite answer {SettleBound.TotalSeconds} s after the load stopped:\n" +
                string.Join('\n', unsettled.Take(20)));
            LogRetriedTransfers(cluster, book);

            var violations = new List<string>();
            // (6) No 5xx but the documented outcome-unknown ones (and no refusal this load cannot earn).
            violations.AddRange(book.Records.SelectMany(r => r.Answers.Where(a => a.ContractViolation is not null)
                .Select(a => $"{a.ContractViolation}: {r.Request.Key} answered {a.Detail}")).Take(20));

            // (4) Repeating a completed transfer replays it: same id, nothing moved (the balances below prove the latter).
            var replays = await book.CheckReplaysAsync(cluster.Api, Workers, ct);
            cluster.Log($"repeated {book.Records.Count(r => r.IsCompleted)} completed transfers with their keys: {replays.Count} did not replay");
            violations.AddRange(replays.Take(20));

            // (1) Every acknowledged transfer is there and completed; none that was refused or aborted is.
            violations.AddRange(await CheckTransferStatusesAsync(cluster, book, ct));

            // (4) The ledger holds exactly the acknowledged transfers, each once, each as sent.
            violations.AddRange(await CheckLedgerAsync(cluster, book, accounts, ct));

            // (2) and (3) Money is conserved, and every balance is what the acknowledged transfers make it.
            violations.AddRange(await CheckBalancesAsync(cluster, book, accounts, ct));

            // (5) The bank's own check of its ledger.
            var (ok, verification) = await cluster.Api.VerifyLedgerAsync(ct);
            cluster.Log($"GET /ledger/verify: {BankApi.Shorten(verification)}");
            if (!ok) violations.Add($"GET /ledger/verify reports problems: {verification}");

            Assert.True(violations.Count == 0, $"The bank's invariants are broken after the coordinator was killed:\n{string.Join('\n', violations.Take(60))}");
        });
    }

    /// <summary>USD accounts, each funded once through a deposit with its own Idempotency-Key.</summary>
    private static async Task<IReadOnlyList<Guid>> OpenAndFundAccountsAsync(ProcessCluster cluster, CancellationToken ct)
    {
        var accounts = await Task.WhenAll(Enumerable.Range(1, AccountCount).Select(async i =>
        {
            var customer = await cluster.Api.CreateCustomerAsync($"Customer {i}", ct);
            var account = await cluster.Api.OpenAccountAsync(customer, ct);
            await cluster.Api.FundAsync(account, Funding, ct);
            return account;
        }));
        cluster.Log($"opened {accounts.Length} accounts with {Funding:0.00} USD each");
        return accounts;
    }

    /// <summary>The silo running the teller (the API routes every teller call to its ring owner), found by its activations.</summary>
    private static async Task<SiloProcess> FindCoordinatorAsync(ProcessCluster cluster, CancellationToken ct)
    {
        var silos = await cluster.Api.SilosAsync(ct) ?? throw new InvalidOperationException("GET /cluster/silos did not answer");
        cluster.Log($"/cluster/silos: {BankApi.Describe(silos)}");
        var tellers = silos.Where(s => s.Status == "active" && s.ActivationsOf("teller") > 0).OrderByDescending(s => s.ActivationsOf("teller")).ToList();
        if (tellers.Count == 0) throw new InvalidOperationException($"no active silo reports a teller activation: {BankApi.Describe(silos)}");
        if (tellers.Count > 1) cluster.Log($"several silos have teller activations; the one with the most is taken for the coordinator");
        return cluster.Silos.FirstOrDefault(s => s.Identity == tellers[0].Address && !s.Process.HasExited)
               ?? throw new InvalidOperationException($"the teller's silo {tellers[0].Address} is not one this test started");
    }

    /// <summary>
    /// What became of the transfers whose first answer was not definite, and whether the retry settled
    /// them under the id that answer named (the commit landed) or re-ran them under a new one (the claim's lease ran out).
    /// </summary>
    private static void LogRetriedTransfers(ProcessCluster cluster, TransferBook book)
    {
        var retried = book.Records.Where(r => r.Answers.Count > 1).ToList();
        if (retried.Count == 0)
        {
            cluster.Log("no transfer needed a retry");
            return;
        }
        var named = retried.Select(r => (Record: r, Named: r.Answers[0].ReportedId)).ToList();
        var same = named.Count(x => x.Record.IsCompleted && x.Named is not null && x.Record.Last!.Id == x.Named);
        var other = named.Where(x => x.Record.IsCompleted && x.Named is not null && x.Record.Last!.Id != x.Named).ToList();
        cluster.Log($"{retried.Count} transfers were asked again with their key: {retried.Count(r => r.IsCompleted)} completed " +
                    $"({same} under the id their first answer named, {other.Count} re-run under a new id, " +
                    $"{retried.Count(r => r.IsCompleted && r.Last!.Replayed)} as a replay), {retried.Count(r => !r.IsCompleted)} not applied; " +
                    $"at most {retried.Max(r => r.Answers.Count)} requests and {retried.Max(r => (r.Answers[^1].Received - r.Answers[0].Sent).TotalSeconds):0.0} s for one key" +
                    (other.Count == 0 ? "" : $"; e.g. {other[0].Record}"));
    }

    /// <summary>
    /// GET /transfers/{id}: completed for every acknowledged transfer; never completed for any other id an
    /// answer named (a transfer that was not applied, or an attempt that a retry replaced under a new id).
    /// </summary>
    private static async Task<IReadOnlyList<string>> CheckTransferStatusesAsync(ProcessCluster cluster, TransferBook book, CancellationToken ct)
    {
        var violations = new ConcurrentQueue<string>();
        // Every other id an answer named (an outcome-unknown problem's transactionId, which a retry after the claim's lease may replace).
        var checks = book.Records.Where(r => r.IsCompleted).Select(r => (Record: r, Id: r.Last!.Id!.Value, MustBeCompleted: true))
            .Concat(book.Records.SelectMany(r => r.Answers.Select(a => a.ReportedId ?? a.Id).OfType<Guid>().Distinct()
                .Where(id => !r.IsCompleted || id != r.Last!.Id)
                .Select(id => (Record: r, Id: id, MustBeCompleted: false))))
            .ToList();
        await Parallel.ForEachAsync(checks, new ParallelOptions { MaxDegreeOfParallelism = Workers, CancellationToken = ct }, async (check, token) =>
        {
            var (http, status, body) = await ReadTransferAsync(cluster.Api, check.Id, token);
            if (check.MustBeCompleted && (http != 200 || status != "completed"))
                violations.Enqueue($"acknowledged transfer {check.Id} ({check.Record.Request.Key}): GET /transfers/{check.Id} answered {http} {body}");
            else if (!check.MustBeCompleted && status == "completed")
                violations.Enqueue($"transfer {check.Id} of {check.Record} is not the one its key settled on, yet GET /transfers says completed");
        });
        cluster.Log($"GET /transfers/{{id}}: {checks.Count(c => c.MustBeCompleted)} acknowledged and {checks.Count(c => !c.MustBeCompleted)} not applied looked up, " +
                    $"{violations.Count} wrong");
        return violations.Take(20).ToList();
    }

    /// <summary>A read changes nothing, so a failed one (a 5xx, no answer) is asked again a few times.</summary>
    private static async Task<(int Http, string? Status, string Body)> ReadTransferAsync(BankApi api, Guid id, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var answer = await api.TransferStatusAsync(id, ct);
                if (answer.Http < 500 || attempt >= 3) return answer;
            }
            catch (Exception e) when (attempt < 3 && e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }
            await Task.Delay(500, ct);
        }
    }

    /// <summary>
    /// From the database: the committed transfers are exactly the acknowledged ones (one per key that
    /// ended in 201, under the id the API answered), each a debit of the sender and a credit of the
    /// receiver by the amount sent; every journal entry belongs to a committed movement.
    /// </summary>
    private static async Task<IReadOnlyList<string>> CheckLedgerAsync(ProcessCluster cluster, TransferBook book, IReadOnlyList<Guid> accounts, CancellationToken ct)
    {
        var violations = new List<string>();
        var movements = await cluster.Database.LedgerMovementsAsync(ct);
        var transfers = movements.Where(m => m.Kind == "transfer").ToDictionary(m => m.TxId);
        var completed = book.Records.Where(r => r.IsCompleted).ToList();
        cluster.Log($"ledger: {string.Join(", ", movements.GroupBy(m => (m.Kind, m.Outcome)).Select(g => $"{g.Count()} {g.Key.Kind} {g.Key.Outcome ?? "(no outcome)"}"))}; " +
                    $"{completed.Count} keys ended in 201");

        foreach (var twice in completed.GroupBy(r => r.Last!.Id!.Value).Where(g => g.Count() > 1))
            violations.Add($"transfer id {twice.Key} was answered to {twice.Count()} different keys: {string.Join(", ", twice.Select(r => r.Request.Key))}");
        if (transfers.Count != completed.Count)
            violations.Add($"the ledger holds {transfers.Count} transfers but {completed.Count} keys ended in 201");
        foreach (var record in completed)
        {
            var id = record.Last!.Id!.Value;
            if (!transfers.TryGetValue(id, out var movement))
            {
                violations.Add($"ACKNOWLEDGED TRANSFER MISSING from the ledger: {id} {record}");
                continue;
            }
            var expected = new[] { (Account: record.Request.From.ToString("D"), Amount: -record.Request.Amount), (Account: record.Request.To.ToString("D"), Amount: record.Request.Amount) }
                .OrderBy(e => e.Account, StringComparer.Ordinal).ToList();
            var actual = movement.Entries.OrderBy(e => e.Account, StringComparer.Ordinal).ToList();
            if (movement.Outcome != "committed" || actual.Count != 2
                || !actual.Zip(expected).All(p => string.Equals(p.First.Account, p.Second.Account, StringComparison.OrdinalIgnoreCase) && p.First.Amount == p.Second.Amount))
                violations.Add($"transfer {id} is {movement.Outcome ?? "without outcome"} with entries [{string.Join(", ", actual.Select(e => $"{e.Account} {e.Amount}"))}]; " +
                               $"expected committed with [{string.Join(", ", expected.Select(e => $"{e.Account} {e.Amount}"))}]: {record}");
        }
        var acknowledged = completed.Select(r => r.Last!.Id!.Value).ToHashSet();
        foreach (var extra in transfers.Values.Where(m => !acknowledged.Contains(m.TxId)))
        {
            var owner = book.Records.FirstOrDefault(r => r.Answers.Any(a => a.ReportedId == extra.TxId || a.Id == extra.TxId));
            violations.Add($"transfer {extra.TxId} ({extra.Outcome}, [{string.Join(", ", extra.Entries.Select(e => $"{e.Account} {e.Amount}"))}]) is in the ledger " +
                           $"but no key ended in 201 with that id{(owner is null ? "" : $"; named by {owner}")}");
        }
        var deposits = movements.Count(m => m.Kind == "deposit");
        if (deposits != accounts.Count)
            violations.Add($"the ledger holds {deposits} deposits; the test funded {accounts.Count} accounts once each");
        foreach (var movement in movements.Where(m => m.Outcome != "committed" && m.Kind != "transfer"))
            violations.Add($"{movement.Kind} {movement.TxId} has a ledger header but outcome {movement.Outcome ?? "(none)"}");
        var unexplained = await cluster.Database.UnexplainedJournalEntriesAsync(ct);
        violations.AddRange(unexplained.Take(20).Select(e => $"journal entry of {e.TxId} ({e.Account} {e.Amount}, outcome {e.Outcome ?? "none"}) belongs to no committed movement"));
        return violations.Take(40).ToList();
    }

    /// <summary>
    /// Every balance through GET /accounts/{id}: the sum is what was funded, each is its funding less what
    /// it sent plus what it received, and each is what the account's journal says (the sum of its entries
    /// and the balance after the last one, with sequence numbers 1..n); the whole journal sums to zero.
    /// </summary>
    private static async Task<IReadOnlyList<string>> CheckBalancesAsync(ProcessCluster cluster, TransferBook book, IReadOnlyList<Guid> accounts, CancellationToken ct)
    {
        var violations = new List<string>();
        var expected = book.ExpectedBalances(accounts, Funding);
        var journals = (await cluster.Database.JournalSummariesAsync(ct)).ToDictionary(j => j.Account, StringComparer.OrdinalIgnoreCase);
        var lines = new List<string>();
        decimal total = 0;
        foreach (var account in accounts)
        {
            var balance = await cluster.Api.BalanceAfterFailoverAsync(account, ct);
            total += balance;
            var journal = journals.GetValueOrDefault(account.ToString("D"));
            var line = $"{account}: balance {balance:0.00}, expected {expected[account]:0.00} " +
                       $"(sent {book.Records.Count(r => r.IsCompleted && r.Request.From == account)}, received {book.Records.Count(r => r.IsCompleted && r.Request.To == account)}); " +
                       (journal is null ? "no journal" : $"journal: {journal.Entries} entries summing to {journal.Sum:0.00}, last balance {journal.LastBalance:0.00}");
            lines.Add(line);
            if (balance != expected[account]) violations.Add($"BALANCE WRONG by {balance - expected[account]:0.00}: {line}");
            if (journal is null || journal.Sum != balance || journal.LastBalance != balance || journal.LastSequence != journal.Entries)
                violations.Add($"the account's journal does not match its balance: {line}, last sequence {journal?.LastSequence}");
        }
        var cash = journals.GetValueOrDefault("cash:USD");
        cluster.Log($"balances:\n  {string.Join("\n  ", lines)}\n  total {total:0.00}; cash:USD journal {cash?.Sum:0.00} over {cash?.Entries} entries");
        if (total != Funding * accounts.Count)
            violations.Insert(0, $"MONEY NOT CONSERVED: the accounts hold {total:0.00} in all; {Funding * accounts.Count:0.00} was funded and transfers only move it");
        if (journals.Values.Sum(j => j.Sum) != 0)
            violations.Add($"the journal does not balance: its entries sum to {journals.Values.Sum(j => j.Sum):0.00}");
        if (cash is null || cash.Sum != -Funding * accounts.Count)
            violations.Add($"the bank's cash account cash:USD should hold {-Funding * accounts.Count:0.00} (the funding deposits) but its journal sums to {cash?.Sum:0.00}");
        return violations;
    }

}
