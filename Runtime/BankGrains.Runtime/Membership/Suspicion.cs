namespace BankGrains.Runtime.Membership;

/// <summary>
/// One vote that a silo may be dead: who suspected it and when. <see cref="At"/> is kept in UTC to the
/// microsecond (what PostgreSQL stores), so a suspicion reads back equal to what was written.
/// </summary>
public sealed record Suspicion
{
    private readonly SiloAddress _suspecter;
    private readonly DateTimeOffset _at;

    public Suspicion(SiloAddress suspecter, DateTimeOffset at)
    {
        Suspecter = suspecter;
        At = at;
    }

    public SiloAddress Suspecter
    {
        get => _suspecter;
        init => _suspecter = value.IsDefault ? throw new ArgumentException("A suspicion needs a suspecter.", nameof(value)) : value;
    }

    public DateTimeOffset At
    {
        get => _at;
        init => _at = MembershipTime.Normalize(value);
    }

    public void Deconstruct(out SiloAddress suspecter, out DateTimeOffset at)
    {
        suspecter = Suspecter;
        at = At;
    }

    public override string ToString() => $"{Suspecter} at {At:O}";
}
