using System.Diagnostics;
using System.Text.RegularExpressions;
using BankGrains.TestSupport;
using Xunit;

namespace BankGrains.Bench.Tests;

/// <summary>
/// The bench as its users run it: `dotnet BankGrains.Bench.dll &lt;scenario&gt; [options]`, a separate
/// process that starts and stops what it needs. Short runs with small settings: what is checked is
/// that a scenario works end to end (money and ledger checked by the bench itself) and that its
/// output ends with the machine-readable RESULT line, not what the figures are.
/// </summary>
public sealed class BenchCommandTests
{
    private static readonly Regex ResultLine = new(
        @"^RESULT scenario=(?<scenario>[a-z-]+) tps=\d+ p50_ms=\d+\.\d{3} p99_ms=\d+\.\d{3} baseline_tps=(?<baseline>\d+) ratio=\d+\.\d{2}$");

    [Theory]
    [InlineData("fsync=off")]
    [InlineData("synchronous_commit=off")]
    [InlineData("full_page_writes=off")]
    public void Settings_that_would_make_commits_not_durable_are_refused(string setting)
    {
        var defaults = new Options(Seconds: 10, Warmup: 15, Concurrency: 64, Grains: 0, Silos: 1);

        var error = Assert.Throws<FormatException>(() => Options.Parse(["--pg", setting], defaults));

        Assert.Contains("durable", error.Message);
    }

    [Fact]
    public void Options_override_the_scenarios_defaults()
    {
        var defaults = new Options(Seconds: 10, Warmup: 15, Concurrency: 64, Grains: 0, Silos: 1);

        var options = Options.Parse(["--rounds", "3", "--wal-mb", "0", "--pg", "work_mem=8MB", "--seconds", "2"], defaults);

        Assert.Equal((3, 0, 2, 15), (options.Rounds, options.WalMegabytes, options.Seconds, options.Warmup));
        Assert.Equal(["work_mem=8MB"], options.PgSettings);
        Assert.Throws<FormatException>(() => Options.Parse(["--rounds", "0"], defaults));
    }

    [Fact]
    public void The_Api_runs_as_a_cluster_client_unless_asked_to_be_a_silo()
    {
        var defaults = new Options(Seconds: 10, Warmup: 15, Concurrency: 64, Grains: 0, Silos: 1);

        Assert.False(Options.Parse([], defaults).ApiInSilo);
        Assert.True(Options.Parse(["--api", "silo"], defaults).ApiInSilo);
        Assert.False(Options.Parse(["--api", "client"], defaults).ApiInSilo);
        Assert.Contains("client or silo", Assert.Throws<FormatException>(() => Options.Parse(["--api", "gateway"], defaults)).Message);
    }

    [Fact]
    public async Task Ping_local_runs_and_its_output_ends_with_the_result_line()
    {
        var (exitCode, output) = await RunBenchAsync("ping-local", "--seconds", "1", "--warmup", "1", "--concurrency", "8", "--grains", "16");

        Assert.True(exitCode == 0, output);
        var last = ResultLine.Match(LastLine(output));
        Assert.True(last.Success, $"the last line is not a RESULT line:\n{output}");
        Assert.Equal(("ping-local", "0"), (last.Groups["scenario"].Value, last.Groups["baseline"].Value));
    }

    [Fact]
    public async Task Uniform_client_runs_against_its_baseline_checks_the_money_and_ends_with_the_result_line()
    {
        var (exitCode, output) = await RunBenchAsync("uniform-client",
            "--seconds", "1", "--warmup", "1", "--concurrency", "4", "--accounts", "20", "--wal-mb", "64");

        Assert.True(exitCode == 0, output);
        Assert.Contains("ledger verifies", output);
        Assert.Matches(@"cpu +silo-1 .* µs per call\)", output);
        // PostgreSQL's CPU, measured for the grains and the baseline alike, and the ceiling it sets.
        Assert.Matches(@"cpu +postgres .* µs per call\)", output);
        Assert.Matches(@"cpu per call: bench \d+ µs, postgres \d+ µs, machine \d+ µs", output);
        Assert.Matches(@"ceiling +PostgreSQL alone used \d+ µs of CPU per call: \d+ cores allow at most [\d,]+ calls/s, \d+\.\d\d× the baseline", output);
        Assert.Matches(@"wal +\d+ segments \(\d+ MB\) created and recycled ahead of the run", output);
        // The open loop's second, with the silo's longest GC pause and database commit in it (commits ran, so one is > 0).
        var timeline = Regex.Match(output, @"silo-1 +at 70 %, each second's longest GC pause / database commit ms: (?<gc>\d+\.\d) / (?<commit>\d+\.\d)");
        Assert.True(timeline.Success && double.Parse(timeline.Groups["commit"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, output);
        // The load generator's own collector, second by second: a client-side pause is latency too.
        Assert.Matches(@"bench +gc: \d+ collections", output);
        Assert.Matches(@"bench +at 70 %, each second's longest GC pause ms: \d+\.\d", output);
        var last = ResultLine.Match(LastLine(output));
        Assert.True(last.Success, $"the last line is not a RESULT line:\n{output}");
        Assert.Equal("uniform-client", last.Groups["scenario"].Value);
        Assert.True(int.Parse(last.Groups["baseline"].Value) > 0, output);
    }

    [Fact]
    public async Task Uniform_rest_with_the_Api_as_the_silo_runs_checks_the_money_and_ends_with_the_result_line()
    {
        var (exitCode, output) = await RunBenchAsync("uniform-rest", "--api", "silo",
            "--seconds", "1", "--warmup", "1", "--concurrency", "4", "--accounts", "20", "--wal-mb", "64");

        Assert.True(exitCode == 0, output);
        Assert.Contains("as a silo on 127.0.0.1:", output);
        Assert.DoesNotContain("started silo-1", output);
        Assert.Contains("ledger verifies", output);
        Assert.Matches(@"cpu +api .* µs per call\)", output);
        // The Api ends with a bench silo's closing lines too (the bench's startup hook): it committed transactions.
        Assert.Matches(@"api +transactions: committed [1-9]", output);
        Assert.Matches(@"api +gc: \d+ collections", output);
        var timeline = Regex.Match(output, @"api +at 70 %, each second's longest GC pause / database commit ms: (?<gc>\d+\.\d) / (?<commit>\d+\.\d)");
        Assert.True(timeline.Success && double.Parse(timeline.Groups["commit"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, output);
        var last = ResultLine.Match(LastLine(output));
        Assert.True(last.Success, $"the last line is not a RESULT line:\n{output}");
        Assert.Equal("uniform-rest", last.Groups["scenario"].Value);
        Assert.True(int.Parse(last.Groups["baseline"].Value) > 0, output);
    }

    private static string LastLine(string output) => output.TrimEnd().Split('\n')[^1].TrimEnd('\r');

    /// <summary>Runs the bench built next to this test's configuration, with a time limit; returns its exit code and stdout + stderr.</summary>
    private static async Task<(int ExitCode, string Output)> RunBenchAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(BenchDll());
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the bench did not finish within 3 minutes:\n{await stdout}\n{await stderr}");
        }
        // stderr last: the RESULT line must be the last line of stdout.
        return (process.ExitCode, (await stderr) + (await stdout));
    }

    private static string BenchDll() => BuiltProject.Dll("bench", "BankGrains.Bench", typeof(BenchCommandTests).Assembly);
}
