namespace BankGrains.Runtime.Membership;

/// <summary>
/// Where a silo is in its life, as the membership table records it. Stored by name (text), so the
/// numeric values may change without a migration.
/// </summary>
public enum SiloStatus
{
    /// <summary>Inserted, starting up: not yet an owner of grains.</summary>
    Joining,

    /// <summary>Serving: part of the ring over which grain ownership is hashed.</summary>
    Active,

    /// <summary>Stopping gracefully: hands its grains over, accepts no new ones.</summary>
    ShuttingDown,

    /// <summary>Gone for good. A dead silo never comes back; a restart is a new generation (a new row).</summary>
    Dead,
}
