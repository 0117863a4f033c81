namespace BankGrains.Runtime.Membership;

/// <summary>
/// The whole membership of one cluster as of one table version: the entries were read in the same
/// statement as the version, so they are exactly the rows that version stands for (heartbeats
/// aside, which change no version). Entries are ordered by silo address.
/// </summary>
public sealed record MembershipSnapshot
{
    public MembershipSnapshot(long version, IEnumerable<MembershipEntry> entries)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        ArgumentNullException.ThrowIfNull(entries);
        var sorted = entries.ToArray();
        if (Array.IndexOf(sorted, null) >= 0) throw new ArgumentException("A snapshot cannot contain null entries.", nameof(entries));
        Array.Sort(sorted, static (a, b) => a.Silo.CompareTo(b.Silo));
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].Silo == sorted[i - 1].Silo)
                throw new ArgumentException($"Silo {sorted[i].Silo} appears twice in one snapshot.", nameof(entries));
        }
        Version = version;
        Entries = Array.AsReadOnly(sorted);
    }

    /// <summary>The table version: pass it as expectedVersion to the next insert or update.</summary>
    public long Version { get; }

    public IReadOnlyList<MembershipEntry> Entries { get; }

    /// <summary>The entry of exactly this silo incarnation, or null.</summary>
    public MembershipEntry? Find(SiloAddress silo)
    {
        foreach (var entry in Entries)
        {
            if (entry.Silo == silo) return entry;
        }
        return null;
    }

    public bool Equals(MembershipSnapshot? other)
        => other is not null && Version == other.Version && Entries.SequenceEqual(other.Entries);

    public override int GetHashCode() => HashCode.Combine(Version, Entries.Count);

    public override string ToString() => $"v{Version}: [{string.Join(" | ", Entries)}]";
}
