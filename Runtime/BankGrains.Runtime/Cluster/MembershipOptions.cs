namespace BankGrains.Runtime.Cluster;

/// <summary>
/// Failure detection and membership (Orleans: ClusterMembershipOptions). With the defaults a dead
/// silo is declared dead after about ProbePeriod × MissedProbesLimit (15 s) plus the vote writes.
/// </summary>
public sealed class MembershipOptions
{
    public const string Section = "Cluster:Membership";

    /// <summary>How often a silo writes its IAmAlive heartbeat to the table.</summary>
    public TimeSpan IAmAlivePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a silo (or client) re-reads the table to learn of joins and deaths.</summary>
    public TimeSpan RefreshPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often each silo pings the silos it watches; also each ping's timeout (Orleans: ProbeTimeout 5 s).</summary>
    public TimeSpan ProbePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Consecutive missed pings before a silo writes its suspicion (Orleans: 3).</summary>
    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>Fresh suspicions needed to declare a silo dead (Orleans: 2); fewer when fewer silos can vote.</summary>
    public int VotesForDeath { get; set; } = 2;

    /// <summary>Suspicions older than this no longer count (Orleans: 2 min).</summary>
    public TimeSpan VoteExpiration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How many other silos each silo watches (Orleans: 3).</summary>
    public int ProbedSilos { get; set; } = 3;

    /// <summary>Dead rows older than this are deleted from the table.</summary>
    public TimeSpan DefunctRowAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long a silo trusts its last confirmation (a table read that shows it Active) for writing
    /// grain state and serving calls. Shorter than the time others need to declare it dead, so a
    /// silo that was paused (GC, SIGSTOP, a frozen VM) re-checks the table before acting again.
    /// </summary>
    public TimeSpan Lease => ProbePeriod * MissedProbesLimit;
}
