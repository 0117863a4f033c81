namespace BankGrains.Runtime.Reminders;

/// <summary>One durable reminder: fires on <see cref="GrainId"/> at StartAt + n × Period.</summary>
public sealed record ReminderEntry
{
    public required GrainId GrainId { get; init; }
    public required string ReminderName { get; init; }
    public required DateTimeOffset StartAt { get; init; }
    public required TimeSpan Period { get; init; }

    /// <summary>The stored version; set by the table on read and upsert.</summary>
    public string? ETag { get; init; }
}

/// <summary>
/// Durable store of reminders, keyed by (service, grain id, reminder name). Upsert returns the new ETag;
/// remove succeeds only with the current ETag.
/// </summary>
public interface IReminderTable
{
    Task<IReadOnlyList<ReminderEntry>> ReadAllAsync();
    Task<IReadOnlyList<ReminderEntry>> ReadRowsAsync(GrainId grainId);
    Task<ReminderEntry?> ReadRowAsync(GrainId grainId, string reminderName);
    Task<string> UpsertRowAsync(ReminderEntry entry);
    Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string eTag);
}
