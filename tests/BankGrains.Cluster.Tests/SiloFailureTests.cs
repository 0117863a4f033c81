using BankGrains.Cluster.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace BankGrains.Cluster.Tests;

/// <summary>
/// Three Silo processes and an Api client process on 127.0.0.1 over one PostgreSQL database, under
/// a deposit load, while one silo is SIGKILLed or SIGSTOPped. The bank's invariants: no acknowledged
/// deposit is lost; nothing appears that was not sent (each balance lies between the acknowledged
/// sum and the acknowledged plus unknown sum); service comes back within a bound; a silo the cluster
/// declared dead never writes again and stops itself.
/// Failure detection is fast (probe every 0.5 s, 3 missed probes: a 1.5 s lease).
/// </summary>
public sealed class SiloFailureTests(ITestOutputHelper output)
{
    private const int AccountCount = 10;
    private const int LoopsPerAccount = 2;
    private static readonly TimeSpan Pace = TimeSpan.Zero;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    /// <summary>From a silo's failure to every account taking deposits again (and the failure showing in membership).</summary>
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(20);

    /// <summary>From SIGCONT to the exit of a silo that finds itself declared dead.</summary>
    private static readonly TimeSpan SelfStopBound = TimeSpan.FromSeconds(10);

    /// <summary>A hard stop so that a hang fails the test instead of the run; each test normally takes well under a minute.</summary>
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(150);

    [Fact]
    public async Task Killing_a_silo_under_load_loses_no_acknowledged_deposit()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        await using var cluster = await ProcessCluster.CreateAsync("kill", output, ct);
        await cluster.RunAsync(async () =>
        {
            var (accounts, ledger, load) = await StartUnderLoadAsync(cluster, "before the kill", ct);

            var victim = await PickVictimAsync(cluster, ct);
            var killedAt = DateTime.UtcNow;
            victim.Process.Kill();
            cluster.Log($"SIGKILLed {victim}");

            var recovery = await ledger.WaitUntilEveryAccountAcknowledgedAsync(accounts, killedAt, RecoveryBound, "after the SIGKILL");
            cluster.Log($"every account took a deposit again {recovery.TotalSeconds:0.00} s after the kill");
            var remaining = RecoveryBound - (DateTime.UtcNow - killedAt);
            await cluster.WaitForSilosAsync(list => list.Any(s => s.Address == victim.Identity && s.Status == "dead"),
                $"the killed silo {victim.Identity} to be listed dead", remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, ct);
            cluster.Log($"GET /cluster/silos lists the killed silo dead, {(DateTime.UtcNow - killedAt).TotalSeconds:0.00} s after the kill");

            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            await load.StopAsync();
            cluster.Log($"load stopped; answered since the kill: {ledger.Summary(killedAt)}");
            cluster.Log($"at the kill: {ledger.InFlightAt(killedAt)}");
            await AssertBalancesAsync(cluster, ledger, accounts, "after the kill", ct);

            // The same silo, restarted on its port: a new incarnation (new generation) joins, and deposits go on.
            var restarted = await cluster.StartSiloAsync(victim.Name, victim.Port, ct);
            Assert.NotEqual(victim.Row.Generation, restarted.Row.Generation);
            var silos = await cluster.WaitForSilosAsync(list => list.Any(s => s.Address == restarted.Identity && s.Status == "active"),
                $"the restarted silo {restarted.Identity} to be listed active", TimeSpan.FromSeconds(15), ct);
            Assert.Contains(silos, s => s.Address == victim.Identity && s.Status == "dead");
            Assert.True(restarted.Row.Generation > victim.Row.Generation,
                $"restarted generation {restarted.Row.Generation} is not newer than the killed one's {victim.Row.Generation}");
            var rejoinedAt = DateTime.UtcNow;
            cluster.Log($"rejoined as {restarted.Identity} (killed incarnation {victim.Identity}): {BankApi.Describe(silos)}");

            load = cluster.StartLoad(ledger, accounts, LoopsPerAccount, Pace);
            var resumed = await ledger.WaitUntilEveryAccountAcknowledgedAsync(accounts, rejoinedAt, TimeSpan.FromSeconds(15), "after the rejoin");
            cluster.Log($"every account took a deposit {resumed.TotalSeconds:0.00} s after the rejoin");
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            await load.StopAsync();
            cluster.Log($"answered since the rejoin: {ledger.Summary(rejoinedAt)}");
            cluster.Log($"silos at the end: {BankApi.Describe(await cluster.Api.SilosAsync(ct))}");
            await AssertBalancesAsync(cluster, ledger, accounts, "at the end", ct);
        });
    }

    [Fact]
    public async Task A_paused_silo_declared_dead_never_writes_again_and_stops_itself()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        await using var cluster = await ProcessCluster.CreateAsync("pause", output, ct);
        await cluster.RunAsync(async () =>
        {
            var (accounts, ledger, load) = await StartUnderLoadAsync(cluster, "before the pause", ct);

            var victim = await PickVictimAsync(cluster, ct);
            var pausedAt = DateTime.UtcNow;
            victim.Process.Pause();
            cluster.Log($"SIGSTOPped {victim}; the load goes on, so calls to its grains reach it and queue");

            // Dead in the membership table; T_dead is the database clock when the test first sees it.
            DateTimeOffset deadAt;
            while (true)
            {
                var (status, now) = await cluster.Database.StatusAndNowAsync(victim.Row, ct);
                if (status == "Dead")
                {
                    deadAt = now;
                    break;
                }
                if (DateTime.UtcNow - pausedAt > RecoveryBound)
                    throw new TimeoutException($"{victim} was not declared dead within {RecoveryBound.TotalSeconds} s of SIGSTOP (status {status}).");
                await Task.Delay(50, ct);
            }
            cluster.Log($"membership table: {victim.Identity} Dead {(DateTime.UtcNow - pausedAt).TotalSeconds:0.00} s after SIGSTOP; T_dead (DB now()) = {deadAt:O}");
            cluster.Log($"answered while paused: {ledger.Summary(pausedAt)}");

            var resumedAt = DateTime.UtcNow;
            victim.Process.Resume();
            cluster.Log($"SIGCONT {victim}");

            // (a) It finds itself dead and stops, by itself.
            var exited = await victim.Process.WaitForExitAsync(SelfStopBound);
            cluster.Log(exited
                ? $"{victim.Name} exited by itself with code {victim.Process.ExitCode}, {(DateTime.UtcNow - resumedAt).TotalSeconds:0.00} s after SIGCONT"
                : $"{victim.Name} still runs {SelfStopBound.TotalSeconds} s after SIGCONT");

            // Service came back for every account, without the paused silo.
            var recovery = await ledger.WaitUntilEveryAccountAcknowledgedAsync(accounts, pausedAt, RecoveryBound, "after the SIGSTOP");
            cluster.Log($"every account took a deposit sent after the pause within {recovery.TotalSeconds:0.00} s of it");
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            await load.StopAsync();
            cluster.Log($"load stopped; answered since the pause: {ledger.Summary(pausedAt)}");
            cluster.Log($"at the pause: {ledger.InFlightAt(pausedAt)}; at SIGCONT: {ledger.InFlightAt(resumedAt)}");

            // (b) No write by the dead incarnation after its death: neither in grain_state as it stands, nor in the audit of every write.
            var lateRows = await cluster.Database.RowsWrittenByAfterAsync(victim.Identity, deadAt, ct);
            var death = await cluster.Database.AuditedDeathAsync(victim.Row, ct)
                        ?? throw new InvalidOperationException($"the death audit has no row for {victim.Identity}");
            var writes = await cluster.Database.AuditedWritesByAsync(victim.Identity, ct);
            var lateWrites = writes.Where(w => w.At >= death).ToList();
            cluster.Log($"audit: {victim.Identity} declared dead at {death:O}; it wrote {writes.Count} times, the last at " +
                        $"{(writes.Count > 0 ? writes[^1].At.ToString("O") : "-")}; {lateWrites.Count} writes at or after its death");
            cluster.Log($"account rows by last writer: {string.Join(", ", (await cluster.Database.AccountRowsByWriterAsync(ct)).Select(r => $"{r.Writer}={r.Rows}"))}");

            Assert.True(exited, $"{victim} did not stop within {SelfStopBound.TotalSeconds} s of SIGCONT after it was declared dead.");
            // A failure code (Cluster:ExitCodeWhenDeclaredDead, 70), so a supervisor starts a fresh incarnation.
            Assert.Equal(70, victim.Process.ExitCode);
            Assert.True(writes.Count > 0, $"{victim.Identity} never wrote grain state, so this test proved nothing about a dead silo's writes.");
            Assert.True(lateRows.Count == 0,
                $"grain_state rows written by the dead silo {victim.Identity} after T_dead {deadAt:O}:\n" +
                string.Join('\n', lateRows.Select(r => $"  {r.GrainId} v{r.Version} at {r.UpdatedAt:O}")));
            Assert.True(lateWrites.Count == 0,
                $"the dead silo {victim.Identity} wrote grain state after its death ({death:O}):\n" +
                string.Join('\n', lateWrites.Select(w => $"  {w.GrainId} v{w.Version} at {w.At:O} (updated_at {w.UpdatedAt:O})")));

            // (c) No acknowledged deposit lost, nothing from nowhere.
            await AssertBalancesAsync(cluster, ledger, accounts, "after the paused silo was replaced", ct);
        });
    }

    /// <summary>A customer and a USD checking account each, through the API.</summary>
    /// <summary>
    /// Three silos and the Api; an audit of every grain-state write and every declaration of death (with
    /// the database clock) in this test's database; accounts under a warmed-up deposit load.
    /// </summary>
    private static async Task<(IReadOnlyList<Guid> Accounts, DepositLedger Ledger, DepositLoad Load)> StartUnderLoadAsync(
        ProcessCluster cluster, string label, CancellationToken ct)
    {
        await cluster.StartAsync(silos: 3, ct);
        await cluster.Database.InstallWriteAuditAsync(ct);
        var accounts = await OpenAccountsAsync(cluster, ct);
        var ledger = new DepositLedger();
        var loadStarted = DateTime.UtcNow;
        var load = cluster.StartLoad(ledger, accounts, LoopsPerAccount, Pace);
        await ledger.WaitUntilEveryAccountAcknowledgedAsync(accounts, loadStarted, TimeSpan.FromSeconds(15), "warm-up");
        await Task.Delay(WarmUp, ct);
        cluster.Log($"{label}: {ledger.Summary()}");
        return (accounts, ledger, load);
    }

    private static async Task<IReadOnlyList<Guid>> OpenAccountsAsync(ProcessCluster cluster, CancellationToken ct)
    {
        var accounts = await Task.WhenAll(Enumerable.Range(1, AccountCount).Select(async i =>
        {
            var customer = await cluster.Api.CreateCustomerAsync($"Customer {i}", ct);
            return await cluster.Api.OpenAccountAsync(customer, ct);
        }));
        cluster.Log($"opened {accounts.Length} accounts");
        return accounts;
    }

    /// <summary>The silo that last wrote the most accounts: killing it hits the load where it is.</summary>
    private static async Task<SiloProcess> PickVictimAsync(ProcessCluster cluster, CancellationToken ct)
    {
        var byWriter = await cluster.Database.AccountRowsByWriterAsync(ct);
        cluster.Log($"account rows by last writer: {string.Join(", ", byWriter.Select(r => $"{r.Writer}={r.Rows}"))}; " +
                    $"/cluster/silos: {BankApi.Describe(await cluster.Api.SilosAsync(ct))}");
        var live = cluster.Silos.Where(s => !s.Process.HasExited).ToList();
        return byWriter.Select(r => live.FirstOrDefault(s => s.Identity == r.Writer)).FirstOrDefault(s => s is not null) ?? live[^1];
    }

    /// <summary>
    /// The bank's invariants over every deposit the test sent: balances between the acknowledged and
    /// the acknowledged-plus-unknown sums, and (from the write audit) each applied change matched to
    /// exactly one deposit sent, no acknowledged deposit missing, nothing applied twice.
    /// </summary>
    private static async Task AssertBalancesAsync(ProcessCluster cluster, DepositLedger ledger, IReadOnlyList<Guid> accounts, string when, CancellationToken ct)
    {
        var (report, violations, balances) = await ledger.CheckBalancesAsync(cluster.Api, accounts, ct);
        cluster.Log($"balances {when}:\n{report.TrimEnd()}");
        var (applied, misapplied) = ledger.CheckAppliedDeposits(accounts, await cluster.Database.AuditedAccountBalancesAsync(ct), balances,
            await cluster.Database.JournalAmountsAsync(ct));
        cluster.Log($"write audit {when}: {applied}");
        var all = violations.Concat(misapplied).ToList();
        Assert.True(all.Count == 0, $"The bank's invariants are broken {when}:\n{string.Join('\n', all.Take(50))}");
    }
}
