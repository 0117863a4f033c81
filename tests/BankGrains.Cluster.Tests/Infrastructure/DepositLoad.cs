using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace BankGrains.Cluster.Tests.Infrastructure;

/// <summary>One deposit request: what was asked, when, and what the client learnt.</summary>
public sealed record DepositRecord(Guid Account, decimal Amount, DateTime Started, DateTime Finished, DepositOutcome Outcome, string Detail);

/// <summary>
/// Every deposit the test sent, with its outcome. Amounts are distinct (1.01, 1.02, …), so a lost
/// or doubled deposit changes a balance by an amount that no other explanation fits. Nothing is
/// ever retried: an unknown outcome stays unknown, and bounds the balance from above only.
/// </summary>
public sealed class DepositLedger
{
    private readonly ConcurrentQueue<DepositRecord> _records = new();
    private long _counter;

    public decimal NextAmount() => 1.00m + Interlocked.Increment(ref _counter) * 0.01m;

    public void Record(DepositRecord record) => _records.Enqueue(record);

    public IReadOnlyList<DepositRecord> Records => _records.ToArray();

    /// <summary>Acknowledged and unknown totals of one account.</summary>
    public (decimal Acknowledged, int AcknowledgedCount, decimal Unknown, int UnknownCount, int RefusedCount) For(Guid account)
    {
        decimal acknowledged = 0, unknown = 0;
        int acknowledgedCount = 0, unknownCount = 0, refusedCount = 0;
        foreach (var r in _records.Where(r => r.Account == account))
        {
            switch (r.Outcome)
            {
                case DepositOutcome.Acknowledged: acknowledged += r.Amount; acknowledgedCount++; break;
                case DepositOutcome.Unknown: unknown += r.Amount; unknownCount++; break;
                default: refusedCount++; break;
            }
        }
        return (acknowledged, acknowledgedCount, unknown, unknownCount, refusedCount);
    }

    /// <summary>Counts per outcome (of the deposits answered since <paramref name="since"/>), and the most frequent non-200 answers.</summary>
    public string Summary(DateTime? since = null)
    {
        var records = _records.Where(r => since is null || r.Finished >= since).ToList();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{records.Count} deposits: {records.Count(r => r.Outcome == DepositOutcome.Acknowledged)} acknowledged, " +
            $"{records.Count(r => r.Outcome == DepositOutcome.Unknown)} unknown, {records.Count(r => r.Outcome == DepositOutcome.Refused)} refused");
        foreach (var group in records.Where(r => r.Outcome != DepositOutcome.Acknowledged)
                     .GroupBy(r => (r.Outcome, Key: Classify(r.Detail))).OrderByDescending(g => g.Count()).Take(8))
            text.Append(CultureInfo.InvariantCulture, $"\n    {group.Count()} × {group.Key.Outcome}: {group.First().Detail}");
        return text.ToString();
    }

    /// <summary>The deposits sent before <paramref name="moment"/> and answered after it, by outcome, with their longest wait.</summary>
    public string InFlightAt(DateTime moment)
    {
        var spanning = _records.Where(r => r.Started <= moment && r.Finished >= moment).ToList();
        if (spanning.Count == 0) return "no deposit was in flight";
        return $"{spanning.Count} deposits in flight: " + string.Join(", ", spanning.GroupBy(r => r.Outcome)
            .Select(g => $"{g.Count()} {g.Key} (answered within {(g.Max(r => r.Finished) - moment).TotalSeconds:0.00} s)"));
    }

    /// <summary>
    /// Waits until every account has an acknowledged deposit that was sent at or after <paramref name="since"/>,
    /// and returns how long after <paramref name="since"/> the last of them was acknowledged. Throws past <paramref name="bound"/>.
    /// </summary>
    public async Task<TimeSpan> WaitUntilEveryAccountAcknowledgedAsync(IReadOnlyList<Guid> accounts, DateTime since, TimeSpan bound, string what)
    {
        var deadline = since + bound;
        while (true)
        {
            var firstAcks = accounts.ToDictionary(a => a, a => _records
                .Where(r => r.Account == a && r.Outcome == DepositOutcome.Acknowledged && r.Started >= since)
                .Select(r => (DateTime?)r.Finished).Min());
            if (firstAcks.Values.All(t => t is not null)) return firstAcks.Values.Max()!.Value - since;
            if (DateTime.UtcNow > deadline)
            {
                var missing = firstAcks.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList();
                var text = new StringBuilder($"{what}: {missing.Count} of {accounts.Count} accounts had no acknowledged deposit within {bound.TotalSeconds} s:");
                foreach (var account in missing)
                {
                    var last = _records.Where(r => r.Account == account && r.Started >= since).OrderBy(r => r.Started).TakeLast(3).ToList();
                    text.Append(CultureInfo.InvariantCulture, $"\n  {account}: {last.Count} recent: ");
                    text.Append(string.Join(" | ", last.Select(r => $"+{(r.Started - since).TotalSeconds:0.0}s..+{(r.Finished - since).TotalSeconds:0.0}s {r.Outcome} {r.Detail}")));
                }
                throw new TimeoutException(text.ToString());
            }
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Reads every balance and checks acknowledged ≤ balance ≤ acknowledged + unknown (exactly equal
    /// when nothing is unknown). Returns one line per account, the violations, and the balances.
    /// </summary>
    public async Task<(string Report, IReadOnlyList<string> Violations, IReadOnlyDictionary<Guid, decimal> Balances)> CheckBalancesAsync(
        BankApi api, IReadOnlyList<Guid> accounts, CancellationToken ct)
    {
        var report = new StringBuilder();
        var violations = new List<string>();
        var balances = new Dictionary<Guid, decimal>();
        foreach (var account in accounts)
        {
            var balance = balances[account] = await api.BalanceAfterFailoverAsync(account, ct);
            var (acknowledged, acknowledgedCount, unknown, unknownCount, refusedCount) = For(account);
            var line = $"{account}: balance {balance:0.00}, acknowledged {acknowledged:0.00} ({acknowledgedCount}), unknown {unknown:0.00} ({unknownCount}), refused {refusedCount}";
            report.AppendLine(line);
            if (balance < acknowledged)
                violations.Add($"LOST acknowledged money: {line}; missing {acknowledged - balance:0.00}");
            else if (balance > acknowledged + unknown)
                violations.Add($"MONEY FROM NOWHERE (more than acknowledged + unknown): {line}; excess {balance - acknowledged - unknown:0.00}");
        }
        return (report.ToString(), violations, balances);
    }

    /// <summary>
    /// Matches every change of balance in the write audit to the deposits that made it, and checks:
    /// each applied deposit was sent to that account and not refused; none is applied twice (a retried
    /// call that ran twice); every acknowledged deposit is applied; the versions account for every
    /// deposit; the last stored balance is the one GET reports. One write may carry several deposits
    /// (a group commit writes a row once, at the version its last transaction made): its version then
    /// moves on by one per deposit, and the journal entries between the previous write's ledger
    /// sequence and its own name them — amounts are distinct, so each entry names its deposit — and
    /// must add up to the change.
    /// </summary>
    public (string Report, IReadOnlyList<string> Violations) CheckAppliedDeposits(
        IReadOnlyList<Guid> accounts, IReadOnlyList<AuditedBalance> history, IReadOnlyDictionary<Guid, decimal> balances,
        IReadOnlyDictionary<(string Account, long Sequence), decimal> journal)
    {
        var violations = new List<string>();
        int appliedTotal = 0, unknownTotal = 0, unknownApplied = 0, groupedWrites = 0;
        foreach (var account in accounts)
        {
            var sent = _records.Where(r => r.Account == account).ToDictionary(r => r.Amount);
            var writes = history.Where(h => h.Account == account).OrderBy(h => h.Version).ToList();
            var matched = new Dictionary<decimal, AuditedBalance>();
            (decimal Balance, long Version, long Sequence) previous = (0, 0, 0);
            foreach (var write in writes)
            {
                if (write.Balance is not { } stored)
                {
                    violations.Add($"{account}: version {write.Version} (writer {write.Writer}) stored no balance");
                    continue;
                }
                var amounts = new List<decimal>();
                for (var sequence = previous.Sequence + 1; sequence <= write.LedgerSequence; sequence++)
                {
                    if (journal.TryGetValue((account.ToString("D"), sequence), out var amount)) amounts.Add(amount);
                    else violations.Add($"{account}: version {write.Version} stored ledger sequence {write.LedgerSequence}, but journal entry {sequence} does not exist");
                }
                var steps = Math.Max(1, amounts.Count);
                if (write.Version != previous.Version + steps)
                    violations.Add($"{account}: version {write.Version} (writer {write.Writer}) follows version {previous.Version} with {amounts.Count} deposit(s): versions do not account for one write per deposit");
                if (amounts.Count > 1) groupedWrites++;
                var change = stored - previous.Balance;
                if (change != amounts.Sum())
                    violations.Add($"{account}: version {write.Version} by {write.Writer} at {write.At:O} changed the balance by {change:0.00}, but its journal entries add up to {amounts.Sum():0.00}");
                previous = (stored, write.Version, write.LedgerSequence);
                foreach (var amount in amounts)
                {
                    if (!sent.TryGetValue(amount, out var deposit))
                        violations.Add($"{account}: version {write.Version} by {write.Writer} at {write.At:O} applied {amount:0.00}, which no deposit sent to it explains");
                    else if (matched.TryGetValue(amount, out var first))
                        violations.Add($"{account}: deposit {amount:0.00} ({deposit.Outcome} {deposit.Detail}) APPLIED TWICE: version {first.Version} by {first.Writer} at {first.At:O} " +
                                       $"and version {write.Version} by {write.Writer} at {write.At:O}");
                    else
                    {
                        matched[amount] = write;
                        if (deposit.Outcome == DepositOutcome.Refused)
                            violations.Add($"{account}: deposit {amount:0.00} was refused ({deposit.Detail}) but applied at version {write.Version} by {write.Writer}");
                    }
                }
            }
            foreach (var lost in sent.Values.Where(r => r.Outcome == DepositOutcome.Acknowledged && !matched.ContainsKey(r.Amount)))
                violations.Add($"{account}: acknowledged deposit {lost.Amount:0.00} (sent {lost.Started:HH:mm:ss.fff}, answered {lost.Finished:HH:mm:ss.fff}) was never applied");
            if (balances.TryGetValue(account, out var reported) && reported != previous.Balance)
                violations.Add($"{account}: GET reports balance {reported:0.00} but the last stored state says {previous.Balance:0.00}");
            appliedTotal += matched.Count;
            var unknown = sent.Values.Where(r => r.Outcome == DepositOutcome.Unknown).ToList();
            unknownTotal += unknown.Count;
            unknownApplied += unknown.Count(r => matched.ContainsKey(r.Amount));
        }
        return ($"{history.Count} audited account writes ({groupedWrites} carrying several deposits), {appliedTotal} deposits applied, each matched to the one request that made it; " +
                $"{unknownApplied} of {unknownTotal} unknown outcomes turned out applied", violations);
    }

    private static string Classify(string detail) => detail.Length > 40 ? detail[..40] : detail;
}

/// <summary>Requests a test sends in the background; the cluster stops any a failed test left running.</summary>
public interface IClientLoad
{
    /// <summary>Sends no new request (without waiting for those in flight).</summary>
    void Cancel();

    /// <summary>Sends no new request, and waits for those in flight to be answered.</summary>
    Task StopAsync();
}

/// <summary>
/// Deposit loops against the API: <c>loopsPerAccount</c> sequential loops per account, so a stuck
/// account never holds up the others. Each deposit is recorded in the ledger; none is retried.
/// </summary>
public sealed class DepositLoad : IClientLoad
{
    private static readonly TimeSpan PauseAfterFailure = TimeSpan.FromMilliseconds(100);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = new();

    private DepositLoad()
    {
    }

    public static DepositLoad Start(BankApi api, DepositLedger ledger, IReadOnlyList<Guid> accounts, int loopsPerAccount, TimeSpan pause)
    {
        var load = new DepositLoad();
        foreach (var account in accounts)
        {
            for (var i = 0; i < loopsPerAccount; i++)
                load._loops.Add(Task.Run(() => load.LoopAsync(api, ledger, account, pause)));
        }
        return load;
    }

    /// <summary>Sends no new deposit (without waiting for those in flight).</summary>
    public void Cancel() => _stop.Cancel();

    /// <summary>Sends no new deposit, and waits for those in flight to be answered (bounded by the HTTP client timeout).</summary>
    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        await Task.WhenAll(_loops);
    }

    private async Task LoopAsync(BankApi api, DepositLedger ledger, Guid account, TimeSpan pause)
    {
        var stopping = _stop.Token;
        while (!stopping.IsCancellationRequested)
        {
            var amount = ledger.NextAmount();
            var started = DateTime.UtcNow;
            // Never cancelled half-way: a request cut off by the test would be an unknown outcome the test made itself.
            DepositOutcome outcome;
            string detail;
            try
            {
                (outcome, detail) = await api.DepositAsync(account, amount, CancellationToken.None);
            }
            catch (ObjectDisposedException)
            {
                return; // the cluster is being torn down under a failed test; this deposit was never sent
            }
            ledger.Record(new DepositRecord(account, amount, started, DateTime.UtcNow, outcome, detail));
            try
            {
                await Task.Delay(outcome == DepositOutcome.Acknowledged ? pause : PauseAfterFailure, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
