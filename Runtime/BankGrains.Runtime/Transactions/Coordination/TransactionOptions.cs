namespace BankGrains.Runtime.Transactions;

/// <summary>Transaction settings (configuration section Runtime:Transactions).</summary>
public sealed class TransactionOptions
{
    public const string Section = "Runtime:Transactions";

    /// <summary>How long one attempt may run; every lock it takes is leased until then.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts for a transaction that dies in a lock conflict (wait-die); retries keep its age, so it ends up the oldest.</summary>
    public int MaxAttempts { get; set; } = 20;

    /// <summary>The most transactions one database commit carries (group commit).</summary>
    public int MaxCommitBatch { get; set; } = 256;

    /// <summary>Database commits a coordinator runs at once: while one waits for its flush, the next group is written.</summary>
    public int MaxCommitsInFlight { get; set; } = 2;
}
