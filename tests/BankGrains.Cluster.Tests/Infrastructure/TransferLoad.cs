using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace BankGrains.Cluster.Tests.Infrastructure;

/// <summary>One transfer a client means to make: its Idempotency-Key and the exact body every attempt sends.</summary>
public sealed record TransferRequest(string Key, Guid From, Guid To, decimal Amount, string Reference)
{
    public string Body { get; } =
        $$"""{"fromAccountId":"{{From}}","toAccountId":"{{To}}","amount":{"amount":"{{Amount.ToString("0.00", CultureInfo.InvariantCulture)}}","currency":"USD"},"reference":"{{Reference}}"}""";
}

/// <summary>What one POST /transfers answer tells the client.</summary>
public enum TransferVerdict
{
    /// <summary>201 with the transfer's id: applied.</summary>
    Completed,

    /// <summary>A 4xx refusal (insufficientFunds …): not applied.</summary>
    Refused,

    /// <summary>409 transactionAborted: not applied; the client may try again.</summary>
    Aborted,

    /// <summary>409 idempotencyKeyInProgress: a request with this key still runs; ask again later.</summary>
    InProgress,

    /// <summary>502/503/504, anything else, or no answer: may or may not be applied; ask again with the same key.</summary>
    Unknown,
}

/// <summary>One answer to POST /transfers (Status 0: none came).</summary>
public sealed record TransferAnswer(DateTime Sent, DateTime Received, int Status, string? Code, Guid? Id, string? TransferStatus, bool Replayed,
    Guid? ReportedId, string? Reason, string Detail)
{
    /// <summary>The 5xx answers the contract documents for an unknown outcome.</summary>
    private static readonly Dictionary<int, string> DocumentedFailures = new() { [502] = "outcomeUnknown", [503] = "unavailable", [504] = "timeout" };

    /// <summary>The refusals this load can earn: a balance run dry, a transaction that gave up (lock conflicts, a lost participant).</summary>
    private static readonly HashSet<string> ExpectedRefusals = ["insufficientFunds", "transactionAborted"];

    public TransferVerdict Verdict => Status switch
    {
        201 when Id is not null && TransferStatus == "completed" => TransferVerdict.Completed,
        409 when Code == "idempotencyKeyInProgress" => TransferVerdict.InProgress,
        409 when Code == "transactionAborted" => TransferVerdict.Aborted,
        >= 400 and < 500 => TransferVerdict.Refused,
        _ => TransferVerdict.Unknown,
    };

    /// <summary>The bank said for certain whether the transfer is applied.</summary>
    public bool IsDefinite => Verdict is TransferVerdict.Completed or TransferVerdict.Refused or TransferVerdict.Aborted;

    /// <summary>Why this answer breaks the contract, or null: an undocumented 5xx, no answer at all, a malformed 201, an unexpected refusal.</summary>
    public string? ContractViolation => Status switch
    {
        0 => "the API gave no answer",
        201 when Verdict != TransferVerdict.Completed => "a 201 without an id and status \"completed\"",
        >= 500 when !DocumentedFailures.TryGetValue(Status, out var code) || code != Code => "an undocumented 5xx",
        >= 400 and < 500 when Verdict == TransferVerdict.Refused && !ExpectedRefusals.Contains(Code ?? "") => "an unexpected refusal",
        >= 200 and < 300 and not 201 => "a success other than 201",
        _ => null,
    };

    /// <summary>Status, problem code and abort reason, e.g. "502 outcomeUnknown" or "409 transactionAborted (lockConflict)", for grouping.</summary>
    public string Kind => Status == 0 ? "no answer"
        : Code is null ? Status.ToString(CultureInfo.InvariantCulture)
        : Reason is null ? $"{Status} {Code}" : $"{Status} {Code} ({Reason})";

    public static TransferAnswer From(DateTime sent, DateTime received, int status, string body, bool replayed)
    {
        var code = status >= 400 ? BankApi.ProblemCode(body) : null;
        Guid? id = null;
        string? transferStatus = null;
        if (status is >= 200 and < 300)
        {
            id = Guid.TryParse(BankApi.ProblemMember(body, "id"), out var parsed) ? parsed : null;
            transferStatus = BankApi.ProblemMember(body, "status");
        }
        // An outcome-unknown or aborted problem names the transaction it is about.
        Guid? reported = status >= 400 && Guid.TryParse(BankApi.ProblemMember(body, "transferId") ?? BankApi.ProblemMember(body, "transactionId"), out var named)
            ? named
            : null;
        return new TransferAnswer(sent, received, status, code, id, transferStatus, replayed, reported,
            status >= 400 ? BankApi.ProblemMember(body, "reason") : null, $"{status}{(replayed ? " (replayed)" : "")} {BankApi.Shorten(body)}");
    }

    public static TransferAnswer NoResponse(DateTime sent, DateTime received, string detail) =>
        new(sent, received, 0, null, null, null, false, null, null, detail);
}

/// <summary>One transfer (one Idempotency-Key) and every answer the client got for it, in order.</summary>
public sealed class TransferRecord(TransferRequest request, int worker)
{
    private readonly List<TransferAnswer> _answers = new();

    public TransferRequest Request { get; } = request;

    public int Worker { get; } = worker;

    /// <summary>The POSTs with this key while its outcome was being settled (not the replay check).</summary>
    public IReadOnlyList<TransferAnswer> Answers
    {
        get
        {
            lock (_answers) return _answers.ToList();
        }
    }

    /// <summary>The answer to a repeat of the request after it completed, which must replay the 201.</summary>
    public TransferAnswer? Replay { get; set; }

    public TransferAnswer? Last
    {
        get
        {
            lock (_answers) return _answers.Count == 0 ? null : _answers[^1];
        }
    }

    public bool IsSettled => Last?.IsDefinite == true;

    /// <summary>The transfer is applied, as far as the client knows: its settled answer is 201.</summary>
    public bool IsCompleted => Last?.Verdict == TransferVerdict.Completed;

    public void Add(TransferAnswer answer)
    {
        lock (_answers) _answers.Add(answer);
    }

    /// <summary>The key, the transfer, and each answer in short: time sent, kind, the id it named.</summary>
    public override string ToString() =>
        $"{Request.Key} {Request.From}→{Request.To} {Request.Amount:0.00}: " + string.Join(" | ", Answers.Select(a =>
            $"{a.Sent:HH:mm:ss.fff} {a.Kind}{(a.Replayed ? " replayed" : "")}{((a.Id ?? a.ReportedId) is { } id ? $" {id}" : "")}"));
}

/// <summary>Every transfer the test sent, with every answer, and what they imply for the accounts.</summary>
public sealed class TransferBook
{
    private readonly ConcurrentQueue<TransferRecord> _records = new();

    public IReadOnlyList<TransferRecord> Records => _records.ToArray();

    public TransferRecord Create(TransferRequest request, int worker)
    {
        var record = new TransferRecord(request, worker);
        _records.Enqueue(record);
        return record;
    }

    /// <summary>Sends the record's request (the same key and body every time) and keeps the answer.</summary>
    public static async Task<TransferAnswer> SendAsync(BankApi api, TransferRecord record)
    {
        // Never cancelled half-way: a request cut off by the test would be an unknown outcome the test made itself.
        var answer = await api.TransferAsync(record.Request, CancellationToken.None);
        record.Add(answer);
        return answer;
    }

    /// <summary>
    /// Asks again, with the same key and body, for every transfer whose outcome is not definite, until
    /// it is (an in-progress key is asked again after a second) or <paramref name="bound"/> passes.
    /// Returns the transfers still unsettled.
    /// </summary>
    public async Task<IReadOnlyList<TransferRecord>> SettleAsync(BankApi api, TimeSpan bound, int parallelism, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + bound;
        var pending = Records.Where(r => !r.IsSettled).ToList();
        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = ct }, async (record, token) =>
        {
            while (!record.IsSettled && DateTime.UtcNow < deadline)
            {
                var answer = await SendAsync(api, record);
                if (answer.IsDefinite) return;
                await Task.Delay(answer.Verdict == TransferVerdict.InProgress ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(500), token);
            }
        });
        return Records.Where(r => !r.IsSettled).ToList();
    }

    /// <summary>
    /// Repeats every completed transfer's request with its key; each must replay the original 201
    /// (same id, Idempotent-Replayed: true) and move no money. Returns the answers that did not.
    /// </summary>
    public async Task<IReadOnlyList<string>> CheckReplaysAsync(BankApi api, int parallelism, CancellationToken ct)
    {
        var violations = new ConcurrentQueue<string>();
        await Parallel.ForEachAsync(Records.Where(r => r.IsCompleted), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = ct },
            async (record, token) =>
            {
                var replay = record.Replay = await api.TransferAsync(record.Request, token);
                var original = record.Last!;
                if (replay.Verdict != TransferVerdict.Completed || replay.Id != original.Id || !replay.Replayed)
                    violations.Enqueue($"{record.Request.Key}: completed as {original.Id} but repeating it answered {replay.Detail}");
            });
        return violations.ToList();
    }

    /// <summary>Each account's balance as the completed transfers imply: its funding, less what it sent, plus what it received.</summary>
    public Dictionary<Guid, decimal> ExpectedBalances(IReadOnlyList<Guid> accounts, decimal funding)
    {
        var balances = accounts.ToDictionary(a => a, _ => funding);
        foreach (var record in Records.Where(r => r.IsCompleted))
        {
            balances[record.Request.From] -= record.Request.Amount;
            balances[record.Request.To] += record.Request.Amount;
        }
        return balances;
    }

    /// <summary>Transfers by settled outcome, and every kind of answer received (first attempts and retries), most frequent first.</summary>
    public string Summary(DateTime? since = null)
    {
        var records = Records.Where(r => since is null || r.Answers.Count > 0 && r.Answers[0].Sent >= since).ToList();
        var answers = records.SelectMany(r => r.Answers).ToList();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{records.Count} transfers: {records.Count(r => r.IsCompleted)} completed, " +
            $"{records.Count(r => r.Last?.Verdict == TransferVerdict.Refused)} refused, {records.Count(r => r.Last?.Verdict == TransferVerdict.Aborted)} aborted, " +
            $"{records.Count(r => !r.IsSettled)} unsettled; {answers.Count} answers:");
        foreach (var group in answers.GroupBy(a => a.Kind).OrderByDescending(g => g.Count()))
            text.Append(CultureInfo.InvariantCulture, $" {group.Count()} × {group.Key}{(group.Any(a => a.Replayed) ? $" ({group.Count(a => a.Replayed)} replayed)" : "")};");
        return text.ToString().TrimEnd(';');
    }

    /// <summary>
    /// Waits until a transfer first sent after <paramref name="since"/> completed, and returns how long
    /// after <paramref name="since"/> its 201 came. Throws past <paramref name="bound"/>.
    /// </summary>
    public async Task<TimeSpan> WaitForCompletionSentAfterAsync(DateTime since, TimeSpan bound, string what, CancellationToken ct)
    {
        var deadline = since + bound;
        while (true)
        {
            var first = Records.Where(r => r.IsCompleted && r.Answers[0].Sent >= since).Select(r => (DateTime?)r.Last!.Received).Min();
            if (first is not null) return first.Value - since;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{what}: no transfer sent since {since:HH:mm:ss.fff} completed within {bound.TotalSeconds} s; {Summary(since)}");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>The requests sent before <paramref name="moment"/> and answered after it, by answer.</summary>
    public string InFlightAt(DateTime moment)
    {
        var spanning = InFlightAnswersAt(moment);
        if (spanning.Count == 0) return "no transfer was in flight";
        return $"{spanning.Count} transfers in flight: " + string.Join(", ", spanning.GroupBy(a => a.Kind)
            .Select(g => $"{g.Count()} × {g.Key} (answered within {(g.Max(a => a.Received) - moment).TotalSeconds:0.00} s)"));
    }

    public IReadOnlyList<TransferAnswer> InFlightAnswersAt(DateTime moment) =>
        Records.SelectMany(r => r.Answers).Where(a => a.Sent <= moment && a.Received >= moment).ToList();
}

/// <summary>
/// Transfer workers against the API: each sends one transfer at a time between random accounts
/// (seeded, distinct amounts of 0.01–5.00 USD), each transfer with its own Idempotency-Key. An answer
/// that is not definite is asked again a few times with the same key at once, as a client would;
/// whatever is still open when the load stops is left to <see cref="TransferBook.SettleAsync"/>.
/// </summary>
public sealed class TransferLoad : IClientLoad
{
    private const int ImmediateRetries = 3;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = new();

    private TransferLoad()
    {
    }

    public static TransferLoad Start(BankApi api, TransferBook book, IReadOnlyList<Guid> accounts, int workers, int seed)
    {
        var load = new TransferLoad();
        for (var i = 0; i < workers; i++)
        {
            var worker = i;
            load._workers.Add(Task.Run(() => load.WorkAsync(api, book, accounts, worker, new Random(seed + worker))));
        }
        return load;
    }

    public void Cancel() => _stop.Cancel();

    /// <summary>Sends no new transfer and waits for the requests in flight (bounded by the HTTP client timeout).</summary>
    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    private async Task WorkAsync(BankApi api, TransferBook book, IReadOnlyList<Guid> accounts, int worker, Random random)
    {
        var stopping = _stop.Token;
        for (var n = 1; !stopping.IsCancellationRequested; n++)
        {
            var from = random.Next(accounts.Count);
            var to = (from + 1 + random.Next(accounts.Count - 1)) % accounts.Count;
            var request = new TransferRequest($"transfer-{worker}-{n}-{Guid.NewGuid():N}", accounts[from], accounts[to],
                random.Next(1, 501) / 100m, $"w{worker}-{n}");
            var record = book.Create(request, worker);
            try
            {
                var answer = await TransferBook.SendAsync(api, record);
                for (var retry = 0; retry < ImmediateRetries && !answer.IsDefinite; retry++)
                {
                    await Task.Delay(answer.Verdict == TransferVerdict.InProgress ? 1000 : 300, stopping);
                    answer = await TransferBook.SendAsync(api, record);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return; // the cluster is being torn down under a failed test
            }
        }
    }
}
