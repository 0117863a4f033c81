namespace BankGrains.Runtime.Transactions;

/// <summary>
/// A running transaction as one call sees it. The caller's copy travels with each transactional call
/// (id, attempt, priority, deadline, coordinator); what the callee adds (the grains that joined, the
/// records they wrote) travels back with the response and is merged into the caller's copy, so the
/// coordinator ends up knowing every participant and every record.
/// </summary>
public sealed class TransactionInfo
{
    private readonly object _gate = new();
    private readonly HashSet<GrainId> _participants = new();
    private readonly TransactionRecords _records = new();

    public TransactionInfo(Guid id, int attempt, long priority, DateTimeOffset deadline, string coordinator, Guid? run = null)
    {
        Id = id;
        Attempt = attempt;
        Run = run ?? Guid.NewGuid();
        Priority = priority;
        Deadline = deadline;
        Coordinator = coordinator;
    }

    public Guid Id { get; }

    /// <summary>Which attempt this is (0 first): retries of one transaction share its id.</summary>
    public int Attempt { get; }

    /// <summary>
    /// Unique to this run of the body. Participants key their lock and copies by (id, run), so a retry,
    /// or a caller running the same id twice at once, never shares another run's lock or changes.
    /// </summary>
    public Guid Run { get; }

    /// <summary>Wait-die age: the start time of the first attempt (smaller = older = wins).</summary>
    public long Priority { get; }

    /// <summary>The transaction's timeout as an instant: every lock it holds is leased until then.</summary>
    public DateTimeOffset Deadline { get; }

    /// <summary>The silo (or client) that commits it; participants that build on each other's changes
    /// vote without waiting only when they share it.</summary>
    public string Coordinator { get; }

    internal TransactionKey Key => new(Id, Run);

    /// <summary>Adds records (journal entries, events, the ledger header, an idempotency record) to the commit.</summary>
    public void AddRecords(Action<TransactionRecords> add)
    {
        lock (_gate) add(_records);
    }

    internal void Join(GrainId participant)
    {
        lock (_gate) _participants.Add(participant);
    }

    internal IReadOnlyList<GrainId> Participants
    {
        get { lock (_gate) return _participants.ToList(); }
    }

    internal TransactionRecords Records
    {
        get { lock (_gate) return _records; }
    }

    /// <summary>The copy a call carries to its callee.</summary>
    internal TransactionInfo Fork() => new(Id, Attempt, Priority, Deadline, Coordinator, Run);

    /// <summary>What a callee learnt, to send back with its response.</summary>
    internal TransactionReply ToReply()
    {
        lock (_gate) return new TransactionReply(_participants.ToList(), _records);
    }

    internal void Merge(TransactionReply reply)
    {
        lock (_gate)
        {
            foreach (var p in reply.Participants) _participants.Add(p);
            if (!ReferenceEquals(reply.Records, _records)) _records.MergeFrom(reply.Records);
        }
    }

    public override string ToString() => Attempt == 0 ? $"{Id}" : $"{Id} (attempt {Attempt + 1})";
}

/// <summary>One run of one transaction.</summary>
internal readonly record struct TransactionKey(Guid Id, Guid Run);

/// <summary>What a callee sends back about the transaction: who joined, and what they recorded.</summary>
public sealed record TransactionReply(IReadOnlyList<GrainId> Participants, TransactionRecords Records);

/// <summary>The transaction the current grain call or client flow runs in.</summary>
public static class TransactionContext
{
    private static readonly AsyncLocal<TransactionInfo?> Ambient = new();

    /// <summary>The current transaction, or null outside one.</summary>
    public static TransactionInfo? Current => Ambient.Value;

    internal static void Set(TransactionInfo? info) => Ambient.Value = info;
}
