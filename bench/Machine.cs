using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace BankGrains.Bench;

/// <summary>The machine a run happened on, and CPU accounting over the measured window.</summary>
public static class Machine
{
    public static string Describe()
    {
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return string.Create(CultureInfo.InvariantCulture,
            $"MACHINE cores={Environment.ProcessorCount} memory_gb={memory:0.0} cpu=\"{CpuModel()}\" os=\"{RuntimeInformation.OSDescription}\" " +
            $"arch={RuntimeInformation.OSArchitecture} dotnet={Environment.Version} gc={(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}");
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "unknown" : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    /// <summary>Busy and total jiffies of the whole machine (/proc/stat), to show what else was using the CPU.</summary>
    public static (long Busy, long Total)? MachineJiffies()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0); // idle + iowait
            var total = fields.Take(Math.Min(fields.Length, 8)).Sum();   // user..steal; guest is already in user
            return (total - idle, total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>Per process: its share of all cores (CPU seconds / wall seconds / cores, 1.0 = every core busy) and its CPU seconds; the machine's busy share over the same window.</summary>
public sealed record CpuUsage(IReadOnlyList<(string Name, double Share, double CpuSeconds)> Processes, double? MachineBusy, double WallSeconds)
{
    /// <summary>The whole machine's busy time over the window, in CPU-seconds (as the processes' are).</summary>
    public double? MachineCpuSeconds => MachineBusy * Environment.ProcessorCount * WallSeconds;
}

/// <summary>CPU time of a set of processes (and the machine) between two snapshots.</summary>
public sealed class CpuMeter
{
    private readonly List<(string Name, Func<TimeSpan> Cpu)> _processes = new();
    private readonly Dictionary<string, TimeSpan> _start = new();
    private long _startWall;
    private (long Busy, long Total)? _machineStart;

    public void Track(string name, Process process) => _processes.Add((name, () => CpuOf(process)));

    /// <summary>A process with everything it forked, e.g. PostgreSQL's postmaster and its backends.</summary>
    public void TrackTree(string name, int rootPid) => _processes.Add((name, () => ProcessTreeCpu.Of(rootPid) ?? TimeSpan.Zero));

    public void Start()
    {
        foreach (var (name, cpu) in _processes) _start[name] = cpu();
        _machineStart = Machine.MachineJiffies();
        _startWall = Stopwatch.GetTimestamp();
    }

    private CpuUsage? _result;

    /// <summary>Takes the end snapshot (once; later calls return the first result).</summary>
    public void StopNow() => _result ??= Measure();

    public CpuUsage Stop() => _result ??= Measure();

    private CpuUsage Measure()
    {
        var wall = Stopwatch.GetElapsedTime(_startWall).TotalSeconds;
        var cores = Environment.ProcessorCount;
        var list = _processes.Select(p =>
        {
            var cpu = (p.Cpu() - _start[p.Name]).TotalSeconds;
            return (p.Name, cpu / wall / cores, cpu);
        }).ToList();
        double? machine = null;
        if (_machineStart is { } a && Machine.MachineJiffies() is { } b && b.Total > a.Total)
            machine = (double)(b.Busy - a.Busy) / (b.Total - a.Total);
        return new CpuUsage(list, machine, wall);
    }

    private static TimeSpan CpuOf(Process process)
    {
        try
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return TimeSpan.Zero; // exited
        }
    }
}
