using BankGrains.Runtime.Reminders;
using Microsoft.Data.Sqlite;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// Reminder table in a SQLite file (table reminders). Versions come from the one-row counter
/// reminder_version_seq, bumped in the upsert's transaction, so they are never reused.
/// </summary>
public sealed class SqliteReminderTable : IReminderTable
{
    private const string Columns = "grain_id, reminder_name, start_at, period, version";

    private readonly SqliteDatabase _database;
    private readonly string _serviceId;

    public SqliteReminderTable(SqliteDatabase database, string serviceId)
    {
        ArgumentNullException.ThrowIfNull(database);
        GrainStateCodec.ValidateServiceId(serviceId);
        _database = database;
        _serviceId = serviceId;
    }

    public Task<IReadOnlyList<ReminderEntry>> ReadAllAsync()
        => QueryAsync($"SELECT {Columns} FROM reminders WHERE service_id = $service", _ => { });

    public Task<IReadOnlyList<ReminderEntry>> ReadRowsAsync(GrainId grainId)
    {
        if (grainId.Type is null) throw new ArgumentException("A default GrainId owns no reminders.", nameof(grainId));
        return QueryAsync($"SELECT {Columns} FROM reminders WHERE service_id = $service AND grain_id = $grain",
            cmd => cmd.Parameters.AddWithValue("$grain", grainId.ToString()));
    }

    public async Task<ReminderEntry?> ReadRowAsync(GrainId grainId, string reminderName)
    {
        ReminderRows.ValidateKey(grainId, reminderName);
        var rows = await QueryAsync($"SELECT {Columns} FROM reminders WHERE service_id = $service AND grain_id = $grain AND reminder_name = $name",
            cmd =>
            {
                cmd.Parameters.AddWithValue("$grain", grainId.ToString());
                cmd.Parameters.AddWithValue("$name", reminderName);
            }).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<string> UpsertRowAsync(ReminderEntry entry)
    {
        ReminderRows.Validate(entry);
        await using var connection = await _database.OpenConnectionAsync().ConfigureAwait(false);
        await using var tx = connection.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: counter and row move together
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText =
            "UPDATE reminder_version_seq SET last_version = last_version + 1 WHERE id = 1; " +
            "INSERT INTO reminders (service_id, grain_id, reminder_name, start_at, period, version) " +
            "VALUES ($service, $grain, $name, $start, $period, (SELECT last_version FROM reminder_version_seq WHERE id = 1)) " +
            "ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE SET " +
            "start_at = excluded.start_at, period = excluded.period, version = excluded.version " +
            "RETURNING version;";
        cmd.Parameters.AddWithValue("$service", _serviceId);
        cmd.Parameters.AddWithValue("$grain", entry.GrainId.ToString());
        cmd.Parameters.AddWithValue("$name", entry.ReminderName);
        cmd.Parameters.AddWithValue("$start", ReminderRows.FormatStartAt(entry.StartAt));
        cmd.Parameters.AddWithValue("$period", ReminderRows.PeriodToMilliseconds(entry.Period));
        var version = (long)(await cmd.ExecuteScalarAsync().ConfigureAwait(false)
            ?? throw new InvalidOperationException("The reminder upsert returned no version; is the schema migrated?"));
        await tx.CommitAsync().ConfigureAwait(false);
        return GrainStateCodec.FormatETag(version);
    }

    public async Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string eTag)
    {
        ReminderRows.ValidateKey(grainId, reminderName);
        ArgumentNullException.ThrowIfNull(eTag);
        if (!GrainStateCodec.TryParseETag(eTag, out var version)) return false;
        await using var connection = await _database.OpenConnectionAsync().ConfigureAwait(false);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "DELETE FROM reminders WHERE service_id = $service AND grain_id = $grain AND reminder_name = $name AND version = $version";
        cmd.Parameters.AddWithValue("$service", _serviceId);
        cmd.Parameters.AddWithValue("$grain", grainId.ToString());
        cmd.Parameters.AddWithValue("$name", reminderName);
        cmd.Parameters.AddWithValue("$version", version);
        return await cmd.ExecuteNonQueryAsync().ConfigureAwait(false) > 0;
    }

    private async Task<IReadOnlyList<ReminderEntry>> QueryAsync(string sql, Action<SqliteCommand> addParameters)
    {
        await using var connection = await _database.OpenConnectionAsync().ConfigureAwait(false);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$service", _serviceId);
        addParameters(cmd);
        var rows = new List<ReminderEntry>();
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            rows.Add(ReminderRows.Create(GrainId.Parse(reader.GetString(0)), reader.GetString(1),
                ReminderRows.ParseStartAt(reader.GetString(2)), reader.GetInt64(3), reader.GetInt64(4)));
        }
        return ReminderRows.Sorted(rows);
    }
}
