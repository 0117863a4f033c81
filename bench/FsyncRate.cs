using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using BankGrains.TestSupport;

namespace BankGrains.Bench;

/// <summary>
/// How fast this disk makes a write durable, measured with PostgreSQL's own pg_test_fsync (fdatasync of
/// one 8 kB write, PostgreSQL's default WAL sync method on Linux) in the temp folder, where the
/// benchmark's PostgreSQL keeps its data. Every commit waits for one such flush (or shares one).
/// </summary>
public static partial class FsyncRate
{
    /// <summary>Prints the rate as the scenario's FSYNC line.</summary>
    public static async Task PrintAsync(CancellationToken ct)
    {
        var rate = await MeasureAsync(ct);
        Console.WriteLine(rate is { } r
            ? string.Create(CultureInfo.InvariantCulture, $"FSYNC fdatasync_ops_per_s={r:0} (pg_test_fsync, one 8 kB write, in {Path.GetTempPath()})")
            : "FSYNC unknown (pg_test_fsync not found)");
    }

    public static async Task<double?> MeasureAsync(CancellationToken ct)
    {
        var tool = Path.Combine(PostgresServer.FindBinDirectory(), "pg_test_fsync");
        if (!File.Exists(tool)) return null;
        var file = Path.Combine(Path.GetTempPath(), $"bgbench-fsync-{Environment.ProcessId}.out");
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-s", "1", "-f", file }) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        try
        {
            // The first fdatasync line is all we need; the rest of the tool's tests are skipped.
            while (await process.StandardOutput.ReadLineAsync(ct) is { } line)
            {
                var match = FdatasyncLine().Match(line);
                if (match.Success) return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            return null;
        }
        finally
        {
            if (!process.HasExited) process.Kill();
            File.Delete(file);
        }
    }

    [GeneratedRegex(@"^\s+fdatasync\s+([0-9.]+) ops/sec")]
    private static partial Regex FdatasyncLine();
}
