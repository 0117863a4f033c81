using System.Text;

namespace BankGrains.Runtime.Membership;

/// <summary>
/// One row of the membership table: a silo incarnation and what the cluster knows about it.
/// Values are checked and normalised as they are set (timestamps to UTC microseconds, suspicions
/// copied into a read-only list), so an entry reads back from any table equal to what was written,
/// and equality compares the suspicions element by element.
/// </summary>
public sealed record MembershipEntry
{
    private readonly SiloAddress _silo;
    private readonly string _siloName = "";
    private readonly string _hostName = "";
    private readonly SiloStatus _status;
    private readonly DateTimeOffset _startTime;
    private readonly DateTimeOffset _iAmAliveTime;
    private readonly IReadOnlyList<Suspicion> _suspicions = [];

    public MembershipEntry(
        SiloAddress silo, string siloName, string hostName, SiloStatus status,
        DateTimeOffset startTime, DateTimeOffset iAmAliveTime, IReadOnlyList<Suspicion>? suspicions = null)
    {
        Silo = silo;
        SiloName = siloName;
        HostName = hostName;
        Status = status;
        StartTime = startTime;
        IAmAliveTime = iAmAliveTime;
        Suspicions = suspicions ?? [];
    }

    public SiloAddress Silo
    {
        get => _silo;
        init => _silo = value.IsDefault ? throw new ArgumentException("A membership entry needs a silo address.", nameof(value)) : value;
    }

    /// <summary>The silo's configured name (for people: logs, dashboard).</summary>
    public string SiloName
    {
        get => _siloName;
        init => _siloName = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The machine or container the silo runs on.</summary>
    public string HostName
    {
        get => _hostName;
        init => _hostName = value ?? throw new ArgumentNullException(nameof(value));
    }

    public SiloStatus Status
    {
        get => _status;
        init => _status = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown silo status.");
    }

    public DateTimeOffset StartTime
    {
        get => _startTime;
        init => _startTime = MembershipTime.Normalize(value);
    }

    /// <summary>The silo's last heartbeat. Tables never move it backwards.</summary>
    public DateTimeOffset IAmAliveTime
    {
        get => _iAmAliveTime;
        init => _iAmAliveTime = MembershipTime.Normalize(value);
    }

    /// <summary>Votes that this silo may be dead, in the order they were written.</summary>
    public IReadOnlyList<Suspicion> Suspicions
    {
        get => _suspicions;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            var copy = value.ToArray(); // the caller's list may change later; this entry must not
            if (Array.IndexOf(copy, null) >= 0) throw new ArgumentException("A suspicion list cannot contain null.", nameof(value));
            _suspicions = Array.AsReadOnly(copy);
        }
    }

    public bool Equals(MembershipEntry? other)
        => other is not null
           && _silo == other._silo
           && _siloName == other._siloName
           && _hostName == other._hostName
           && _status == other._status
           && _startTime == other._startTime
           && _iAmAliveTime == other._iAmAliveTime
           && _suspicions.SequenceEqual(other._suspicions);

    public override int GetHashCode() => HashCode.Combine(_silo, _siloName, _hostName, _status, _startTime, _iAmAliveTime, _suspicions.Count);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append($"{Silo} '{SiloName}' on '{HostName}' {Status}, started {StartTime:O}, alive {IAmAliveTime:O}");
        if (Suspicions.Count > 0) text.Append(", suspected by ").AppendJoin("; ", Suspicions);
        return text.ToString();
    }
}
