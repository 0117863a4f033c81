using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace BankGrains.Bench;

/// <summary>
/// Gives the throwaway PostgreSQL the write-ahead log of a server in steady state. A fresh cluster has
/// no WAL segment files to recycle, so each time the log crosses into a new 16 MB segment the backend
/// writing it zero-fills and fsyncs the new file first; every commit in the meantime waits (50–100 ms
/// on this machine's disk, about once a second at 4,000 transfers/s). A server that has run for a
/// while renames old segments into future ones at each checkpoint and never pays that in the commit
/// path. So before anything is measured, the segments the run will need are created once and
/// recycled, and checkpoints are kept out of the short run. Both the baseline and the grains get the
/// same server.
/// </summary>
public static class PreparedWal
{
    /// <summary>WAL made ready before the run (<c>--wal-mb</c>): a default run writes 0.4–0.8 GB; the end of the run reports whether it stayed within.</summary>
    public const int DefaultMegabytes = 2048;

    private const int SegmentMegabytes = 16;

    /// <summary>Server settings: keep that many megabytes of old segments for recycling, and no checkpoint for lack of WAL room during a run.</summary>
    public static IReadOnlyList<string> Settings(int megabytes) =>
    [
        $"min_wal_size={Math.Max(megabytes, 32)}MB",
        $"max_wal_size={4 * Math.Max(megabytes, 256)}MB",
        "checkpoint_timeout=30min",
    ];

    /// <summary>
    /// Writes <paramref name="megabytes"/> of WAL, one segment at a time, then checkpoints so every segment
    /// is kept for reuse. Returns where the log is when the run begins, for <see cref="ReportAsync"/>.
    /// </summary>
    public static async Task<long> PrepareAsync(string connectionString, int megabytes, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        var start = await CurrentLsnAsync(connection, ct);
        // A switch needs something written since the last one; a tiny message is enough, and the switch
        // itself makes the backend create (zero-fill) the next segment.
        for (var i = 0; i < megabytes / SegmentMegabytes; i++)
            await ExecuteAsync(connection, "SELECT pg_logical_emit_message(false, 'bench-wal', ''), pg_switch_wal()", ct);
        await ExecuteAsync(connection, "CHECKPOINT", ct);
        var recycled = await ScalarAsync<long>(connection,
            "SELECT count(*) FROM pg_ls_waldir() WHERE name > pg_walfile_name(pg_current_wal_lsn()) AND name ~ '^[0-9A-F]{24}$'", ct);
        var runStart = await CurrentLsnAsync(connection, ct);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wal          {recycled} segments ({recycled * SegmentMegabytes} MB) created and recycled ahead of the run in {clock.Elapsed.TotalSeconds:0.0} s " +
            $"({(runStart - start) / (1 << 20)} MB of WAL), as a server in steady state has them"));
        return runStart;
    }

    /// <summary>The WAL the run wrote since <paramref name="runStart"/> and the checkpoints it met, to show the prepared segments sufficed.</summary>
    public static async Task<string> ReportAsync(string connectionString, int megabytes, long runStart)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var written = (await CurrentLsnAsync(connection, default) - runStart) / (1 << 20);
        var checkpoints = await ScalarAsync<long>(connection, "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter", default);
        return string.Create(CultureInfo.InvariantCulture,
            $"wal          {written} MB written during the run ({(written > megabytes ? "more than" : "within")} the {megabytes} MB prepared); " +
            $"{checkpoints} checkpoints since the server started (1 is the preparation's own)");
    }

    private static async Task<long> CurrentLsnAsync(NpgsqlConnection connection, CancellationToken ct) =>
        (long)await ScalarAsync<decimal>(connection, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn", ct);

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(ct))!;
    }
}
