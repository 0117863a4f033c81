using BankGrains.Runtime.Reminders;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// Reminder table in process memory, for tests and development. Same rules as the database tables:
/// upsert always succeeds and returns a new ETag, remove needs the current ETag, and versions come
/// from one counter so a removed-and-recreated reminder never reuses an old ETag. Thread-safe.
/// </summary>
public sealed class MemoryReminderTable : IReminderTable
{
    private readonly object _gate = new();
    private readonly Dictionary<(string GrainId, string Name), ReminderEntry> _rows = new();
    private long _lastVersion;

    public Task<IReadOnlyList<ReminderEntry>> ReadAllAsync()
    {
        lock (_gate) return Task.FromResult(ReminderRows.Sorted(_rows.Values.ToList()));
    }

    public Task<IReadOnlyList<ReminderEntry>> ReadRowsAsync(GrainId grainId)
    {
        if (grainId.Type is null) throw new ArgumentException("A default GrainId owns no reminders.", nameof(grainId));
        lock (_gate) return Task.FromResult(ReminderRows.Sorted(_rows.Values.Where(r => r.GrainId == grainId).ToList()));
    }

    public Task<ReminderEntry?> ReadRowAsync(GrainId grainId, string reminderName)
    {
        ReminderRows.ValidateKey(grainId, reminderName);
        lock (_gate) return Task.FromResult(_rows.GetValueOrDefault((grainId.ToString(), reminderName)));
    }

    public Task<string> UpsertRowAsync(ReminderEntry entry)
    {
        ReminderRows.Validate(entry);
        lock (_gate)
        {
            // Entries are immutable records, so storing one (normalised) shares nothing mutable with callers.
            var row = ReminderRows.Create(entry.GrainId, entry.ReminderName, entry.StartAt,
                ReminderRows.PeriodToMilliseconds(entry.Period), ++_lastVersion);
            _rows[(entry.GrainId.ToString(), entry.ReminderName)] = row;
            return Task.FromResult(row.ETag!);
        }
    }

    public Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string eTag)
    {
        ReminderRows.ValidateKey(grainId, reminderName);
        ArgumentNullException.ThrowIfNull(eTag);
        var key = (grainId.ToString(), reminderName);
        lock (_gate)
        {
            if (!_rows.TryGetValue(key, out var row) || row.ETag != eTag) return Task.FromResult(false);
            _rows.Remove(key);
            return Task.FromResult(true);
        }
    }
}
