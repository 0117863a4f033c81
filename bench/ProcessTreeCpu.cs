using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace BankGrains.Bench;

/// <summary>
/// CPU time of a process and all of its descendants, from /proc: how PostgreSQL's postmaster and the
/// backends it forks are measured as one. A child that exits and is reaped moves its time into the
/// parent's cutime/cstime, so the sum stays continuous while backends come and go.
/// </summary>
public static class ProcessTreeCpu
{
    private static readonly double TicksPerSecond = ClockTicks();

    /// <summary>The tree's CPU time so far; null when the root is gone or /proc cannot be read.</summary>
    public static TimeSpan? Of(int rootPid)
    {
        var stats = new Dictionary<int, (int Parent, long Own, long ReapedChildren)>();
        try
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
                if (Read(pid) is { } stat) stats[pid] = stat;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        if (!stats.TryGetValue(rootPid, out var root)) return null;

        var children = stats.ToLookup(s => s.Value.Parent, s => s.Key);
        long ticks = root.ReapedChildren;
        var pending = new Stack<int>([rootPid]);
        while (pending.TryPop(out var pid))
        {
            ticks += stats[pid].Own;
            foreach (var child in children[pid]) pending.Push(child);
        }
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    /// <summary>Parent pid, utime + stime, and cutime + cstime (fields 4, 14–17 of /proc/PID/stat).</summary>
    private static (int Parent, long Own, long ReapedChildren)? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // exited between listing and reading
        }
        // The command name (field 2) is in parentheses and may hold spaces: split after its last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        return ((int)Field(4), Field(14) + Field(15), Field(16) + Field(17));
    }

    // USER_HZ is 100 on every Linux the bench runs on; getconf says so where it can be asked.
    private static double ClockTicks()
    {
        try
        {
            using var getconf = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true });
            var output = getconf!.StandardOutput.ReadToEnd();
            getconf.WaitForExit();
            return double.TryParse(output.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var hz) && hz > 0 ? hz : 100;
        }
        catch (Win32Exception)
        {
            return 100;
        }
    }
}
