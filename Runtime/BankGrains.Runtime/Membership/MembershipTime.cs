namespace BankGrains.Runtime.Membership;

/// <summary>
/// Timestamps as every membership table keeps them: UTC, truncated to the microsecond that
/// PostgreSQL's timestamptz holds. Normalising when a value is created means an entry reads back
/// equal to what was written, whichever table holds it.
/// </summary>
internal static class MembershipTime
{
    public static DateTimeOffset Normalize(DateTimeOffset value)
    {
        var ticks = value.UtcTicks;
        return new DateTimeOffset(ticks - ticks % 10, TimeSpan.Zero); // 10 ticks = 1 µs
    }
}
