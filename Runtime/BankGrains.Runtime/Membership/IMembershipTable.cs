namespace BankGrains.Runtime.Membership;

/// <summary>
/// The durable, shared record of which silos exist in one cluster (the cluster id is given to the
/// implementation's constructor; several clusters may share one store). Every change except a
/// heartbeat is a compare-and-swap on the cluster's single version number: the caller presents the
/// version of the snapshot it decided on, and the change happens only if nobody changed the table
/// since. So two silos acting on the same view can never both win.
/// </summary>
/// <remarks>
/// Failures: when the store cannot be reached or answers with an error, every method throws
/// <see cref="MembershipTableUnavailableException"/> (the store's own exception inside). After such an
/// exception from a write the outcome is unknown; re-read. A refused compare-and-swap is not an
/// exception: it returns false and changes nothing.
/// </remarks>
public interface IMembershipTable
{
    /// <summary>
    /// Makes sure the cluster's version row exists (version 0 for a new cluster). Idempotent: an
    /// existing cluster keeps its version and rows. Call it before anything else. The database schema
    /// itself comes from SchemaMigrator, not from here.
    /// </summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// All entries and the version they belong to, read atomically.
    /// </summary>
    /// <exception cref="InvalidOperationException">The cluster has no version row (never initialised, or deleted).</exception>
    Task<MembershipSnapshot> ReadAllAsync();

    /// <summary>
    /// Adds a new silo row if the table version is still <paramref name="expectedVersion"/>; the version
    /// becomes expectedVersion + 1 in the same atomic step.
    /// </summary>
    /// <returns>False, with nothing changed, when the version moved, the cluster is not initialised, or the silo (same address, port and generation) already has a row.</returns>
    Task<bool> InsertRowAsync(MembershipEntry entry, long expectedVersion);

    /// <summary>
    /// Replaces an existing silo row (name, host, status, start time, suspicions, heartbeat) if the table
    /// version is still <paramref name="expectedVersion"/>; the version becomes expectedVersion + 1.
    /// The heartbeat never moves backwards: the stored IAmAliveTime is the later of the stored one and
    /// the entry's, so writing a suspicion from an old snapshot cannot undo a newer heartbeat.
    /// </summary>
    /// <returns>False, with nothing changed, when the version moved or the silo has no row.</returns>
    Task<bool> UpdateRowAsync(MembershipEntry entry, long expectedVersion);

    /// <summary>
    /// A heartbeat: sets the silo's IAmAliveTime (never backwards) and nothing else — no version bump,
    /// no status change, so it can neither conflict with nor resurrect anything. A silo without a row
    /// is ignored.
    /// </summary>
    Task UpdateIAmAliveAsync(SiloAddress silo, DateTimeOffset at);

    /// <summary>
    /// Deletes the rows of Dead silos whose IAmAliveTime is earlier than <paramref name="olderThan"/>,
    /// bumping the version by one if anything was deleted.
    /// </summary>
    /// <returns>How many rows were deleted.</returns>
    Task<int> CleanupDefunctEntriesAsync(DateTimeOffset olderThan);

    /// <summary>Removes the cluster entirely — rows and version row (tests and tools only).</summary>
    Task DeleteClusterAsync();
}
