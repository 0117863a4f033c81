using BankGrains.Runtime.Reminders;
using Npgsql;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// Reminder table in PostgreSQL (table reminders), shared by all silos of a service. Versions come
/// from the sequence reminder_version_seq, so a removed-and-recreated reminder never gets back a
/// version that a stale remover could still hold.
/// </summary>
public sealed class PostgresReminderTable : IReminderTable
{
    private const string Columns = "grain_id, reminder_name, start_at, period, version";

    private const string UpsertSql =
        "INSERT INTO reminders (service_id, grain_id, reminder_name, start_at, period, version) " +
        "VALUES (@service, @grain, @name, @start, @period, nextval('reminder_version_seq')) " +
        "ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE SET " +
        "start_at = EXCLUDED.start_at, period = EXCLUDED.period, version = EXCLUDED.version " +
        "RETURNING version";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _serviceId;

    /// <param name="dataSource">A data source for a database migrated with <see cref="SchemaMigrator"/>.</param>
    public PostgresReminderTable(NpgsqlDataSource dataSource, string serviceId)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        GrainStateCodec.ValidateServiceId(serviceId);
        _dataSource = dataSource;
        _serviceId = serviceId;
    }

    public Task<IReadOnlyList<ReminderEntry>> ReadAllAsync()
        => QueryAsync($"SELECT {Columns} FROM reminders WHERE service_id = @service", _ => { });

    public Task<IReadOnlyList<ReminderEntry>> ReadRowsAsync(GrainId grainId)
    {
        if (grainId.Type is null) throw new ArgumentException("A default GrainId owns no reminders.", nameof(grainId));
        return QueryAsync($"SELECT {Columns} FROM reminders WHERE service_id = @service AND grain_id = @grain",
            cmd => cmd.Parameters.Add(new NpgsqlParameter<string>("grain", grainId.ToString())));
    }

    public async Task<ReminderEntry?> ReadRowAsync(GrainId grainId, string reminderName)
    {
        ReminderRows.ValidateKey(grainId, reminderName);
        var rows = await QueryAsync($"SELECT {Columns} FROM reminders WHERE service_id = @service AND grain_id = @grain AND reminder_name = @name",
            cmd =>
            {
                cmd.Parameters.Add(new NpgsqlParameter<string>("grain", grainId.ToString()));
                cmd.Parameters.Add(new NpgsqlParameter<string>("name", reminderName));
            }).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<string> UpsertRowAsync(ReminderEntry entry)
    {
        ReminderRows.Validate(entry);
        await using var cmd = _dataSource.CreateCommand(UpsertSql);
        cmd.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        cmd.Parameters.Add(new NpgsqlParameter<string>("grain", entry.GrainId.ToString()));
        cmd.Parameters.Add(new NpgsqlParameter<string>("name", entry.ReminderName));
        // timestamptz takes UTC only; normalising also drops the sub-microsecond ticks it cannot hold.
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("start", ReminderRows.NormalizeStartAt(entry.StartAt)));
        cmd.Parameters.Add(new NpgsqlParameter<long>("period", ReminderRows.PeriodToMilliseconds(entry.Period)));
        var version = (long)(await cmd.ExecuteScalarAsync().ConfigureAwait(false)
            ?? throw new InvalidOperationException("The reminder upsert returned no version."));
        return GrainStateCodec.FormatETag(version);
    }

    public async Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string eTag)
    {
        ReminderRows.ValidateKey(grainId, reminderName);
        ArgumentNullException.ThrowIfNull(eTag);
        if (!GrainStateCodec.TryParseETag(eTag, out var version)) return false;
        await using var cmd = _dataSource.CreateCommand(
            "DELETE FROM reminders WHERE service_id = @service AND grain_id = @grain AND reminder_name = @name AND version = @version");
        cmd.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        cmd.Parameters.Add(new NpgsqlParameter<string>("grain", grainId.ToString()));
        cmd.Parameters.Add(new NpgsqlParameter<string>("name", reminderName));
        cmd.Parameters.Add(new NpgsqlParameter<long>("version", version));
        return await cmd.ExecuteNonQueryAsync().ConfigureAwait(false) > 0;
    }

    private async Task<IReadOnlyList<ReminderEntry>> QueryAsync(string sql, Action<NpgsqlCommand> addParameters)
    {
        await using var cmd = _dataSource.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter<string>("service", _serviceId));
        addParameters(cmd);
        var rows = new List<ReminderEntry>();
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            rows.Add(ReminderRows.Create(GrainId.Parse(reader.GetString(0)), reader.GetString(1),
                reader.GetFieldValue<DateTimeOffset>(2), reader.GetInt64(3), reader.GetInt64(4)));
        }
        return ReminderRows.Sorted(rows);
    }
}
