using System.Globalization;
using BankGrains.Runtime.Reminders;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// What every reminder table shares. Values are normalised the same way everywhere (StartAt in UTC,
/// truncated to the microsecond PostgreSQL keeps; Period truncated to whole milliseconds, the stored
/// unit) so a reminder reads back identically whichever table holds it.
/// </summary>
internal static class ReminderRows
{
    private const string StartAtFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    public static void Validate(ReminderEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ValidateKey(entry.GrainId, entry.ReminderName);
        if (entry.Period < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(entry), entry.Period, "A reminder period cannot be negative.");
    }

    public static void ValidateKey(GrainId grainId, string reminderName)
    {
        if (grainId.Type is null) throw new ArgumentException("A default GrainId cannot own a reminder.", nameof(grainId));
        ArgumentException.ThrowIfNullOrEmpty(reminderName);
    }

    public static DateTimeOffset NormalizeStartAt(DateTimeOffset value)
    {
        var ticks = value.UtcTicks;
        return new DateTimeOffset(ticks - ticks % 10, TimeSpan.Zero); // 10 ticks = 1 µs
    }

    public static long PeriodToMilliseconds(TimeSpan period) => period.Ticks / TimeSpan.TicksPerMillisecond;

    public static TimeSpan PeriodFromMilliseconds(long milliseconds) => TimeSpan.FromTicks(milliseconds * TimeSpan.TicksPerMillisecond);

    public static string FormatStartAt(DateTimeOffset value) => NormalizeStartAt(value).ToString(StartAtFormat, CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseStartAt(string text)
        => DateTimeOffset.ParseExact(text, StartAtFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static ReminderEntry Create(GrainId grainId, string reminderName, DateTimeOffset startAt, long periodMs, long version) => new()
    {
        GrainId = grainId,
        ReminderName = reminderName,
        StartAt = NormalizeStartAt(startAt),
        Period = PeriodFromMilliseconds(periodMs),
        ETag = GrainStateCodec.FormatETag(version),
    };

    /// <summary>Ordinal order (grain id text, then name): the same in every table, whatever the database collation.</summary>
    public static IReadOnlyList<ReminderEntry> Sorted(List<ReminderEntry> rows)
    {
        rows.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.GrainId.ToString(), b.GrainId.ToString());
            return c != 0 ? c : string.CompareOrdinal(a.ReminderName, b.ReminderName);
        });
        return rows;
    }
}
