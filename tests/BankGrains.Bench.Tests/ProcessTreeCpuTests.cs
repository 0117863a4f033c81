using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace BankGrains.Bench.Tests;

/// <summary>A process tree's CPU, as the bench measures PostgreSQL: the postmaster and every backend it forks.</summary>
public sealed class ProcessTreeCpuTests
{
    [Fact]
    public async Task Children_count_while_they_run_and_after_they_have_exited()
    {
        // A shell forks two children with a fixed amount of work each, waits for them, prints what the
        // kernel charged to its reaped children (bash's `times`), then lingers so it can still be read.
        const string script = "work() { i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; }; " +
                              "work & work & wait; times; sleep 10";
        var info = new ProcessStartInfo("bash", ["-c", script]) { UseShellExecute = false, RedirectStandardOutput = true };
        using var shell = Process.Start(info)!;
        try
        {
            // While they run: the tree has CPU the idle shell itself does not.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            TimeSpan? running;
            while ((running = ProcessTreeCpu.Of(shell.Id)) is { } r && r < TimeSpan.FromSeconds(0.05) && DateTime.UtcNow < deadline)
                await Task.Delay(10);
            Assert.True(running >= TimeSpan.FromSeconds(0.05), $"the running children were not counted: {running}");

            // After they have exited: exactly what the kernel charged to them, now in the shell's cutime/cstime.
            var times = await shell.StandardOutput.ReadLineAsync() + "\n" + await shell.StandardOutput.ReadLineAsync();
            var reaped = ChildrenSeconds(times);
            var after = ProcessTreeCpu.Of(shell.Id)!.Value.TotalSeconds;
            shell.Refresh();
            var own = shell.TotalProcessorTime.TotalSeconds;
            Assert.InRange(after, reaped + own - 0.03, reaped + own + 0.03);
            Assert.True(reaped > 0.1, times);
        }
        finally
        {
            shell.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void A_process_that_is_gone_has_no_tree()
    {
        using var exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        exited.WaitForExit();

        Assert.Null(ProcessTreeCpu.Of(exited.Id));
    }

    /// <summary>The second line of bash's <c>times</c>: the reaped children's user and system time, e.g. "0m0.512s 0m0.003s".</summary>
    private static double ChildrenSeconds(string times)
    {
        var children = Regex.Matches(times.Split('\n')[1], @"(\d+)m([\d.]+)s");
        Assert.Equal(2, children.Count);
        return children.Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * 60 + double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }
}
