using System.Globalization;

namespace BankGrains.Bench;

/// <summary>Prints a scenario's figures for people, and keeps the one machine-readable RESULT line for the very end of the output.</summary>
public static class Report
{
    public static void Print(string scenario, Options options, LoadResult result,
        IReadOnlyList<(string Name, double CallsPerSecond)> perSilo,
        CpuUsage cpu,
        LoadResult? baseline = null, OpenLoopResult? atSeventyPercent = null, CpuUsage? baselineCpu = null)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine($"scenario     {scenario}");
        Console.WriteLine(string.Create(inv, $"setup        {options.Seconds} s measured after {options.Warmup} s warm-up; {options.Concurrency} concurrent callers (closed loop) over {options.Grains} grains"));
        Console.WriteLine(string.Create(inv, $"calls        {result.Calls:N0} completed, {result.Errors:N0} failed in the measured window"));
        Console.WriteLine(string.Create(inv, $"fairness     {result.ActiveCallers} of {options.Concurrency} callers completed calls; {result.MinPerCaller:N0} to {result.MaxPerCaller:N0} calls each"));
        if (result.FirstError is not null) Console.WriteLine($"first error  {result.FirstError}");
        Console.WriteLine(string.Create(inv, $"throughput   {result.CallsPerSecond:N0} calls/s in total"));
        foreach (var (name, tps) in perSilo)
            Console.WriteLine(string.Create(inv, $"             {tps:N0} calls/s served by {name}"));
        Console.WriteLine(string.Create(inv,
            $"latency      p50 {result.Latency.PercentileMs(50):0.000} ms   p99 {result.Latency.PercentileMs(99):0.000} ms   p99.9 {result.Latency.PercentileMs(99.9):0.000} ms   max {result.Latency.MaxNanoseconds / 1e6:0.000} ms   mean {result.Latency.MeanMs:0.000} ms"));
        // Little's law: callers actually waiting on a call = throughput × mean latency. Well below the
        // configured concurrency means calls often complete without yielding, so fewer callers overlap.
        Console.WriteLine(string.Create(inv, $"in flight    {result.CallsPerSecond * result.Latency.MeanMs / 1000:0.0} calls on average (throughput × mean latency; {options.Concurrency} callers configured)"));
        if (result.Calls > 0)
            Console.WriteLine(string.Create(inv, $"             {100.0 * result.CompletedSynchronously / result.Calls:0.0} % of calls had completed when the proxy returned (ran inline, without a thread hop)"));
        // CPU per call, to compare runs whose throughput differs: CPU-seconds over the calls of the same window.
        string PerCall(double cpuSeconds) => result.CallsPerSecond > 0 ? string.Create(inv, $"; {MicrosPerCall(cpuSeconds, result.CallsPerSecond, cpu):0} µs per call") : "";
        foreach (var (name, share, seconds) in cpu.Processes)
            Console.WriteLine(string.Create(inv, $"cpu          {name,-8} {share * 100,5:0.0} % of {Environment.ProcessorCount} cores ({seconds:0.00} CPU-s over {cpu.WallSeconds:0.00} s{PerCall(seconds)})"));
        var tracked = cpu.Processes.Sum(p => p.Share);
        var rest = cpu.Processes.Any(p => p.Name == PostgresName) ? "the kernel" : "PostgreSQL, the kernel";
        if (cpu.MachineBusy is { } busy)
            Console.WriteLine(string.Create(inv, $"cpu          machine  {busy * 100,5:0.0} % busy in all (the processes above: {tracked * 100:0.0} %; the rest is {rest} and anything else running{PerCall(cpu.MachineCpuSeconds ?? 0)})"));
        if (atSeventyPercent is { } open)
        {
            Console.WriteLine(string.Create(inv,
                $"at 70 %      open loop at {open.TargetRate:N0}/s (70 % of the peak above): p50 {open.Latency.PercentileMs(50):0.000} ms   p99 {open.Latency.PercentileMs(99):0.000} ms   p99.9 {open.Latency.PercentileMs(99.9):0.000} ms   ({open.CompletedPerSecond:N0}/s completed, {open.Errors:N0} failed, {open.Dropped:N0} dropped; latency from the scheduled start)"));
            Console.WriteLine("             each second's p99 / max ms: " + string.Join("  ", open.PerSecond.Select(s =>
                string.Create(inv, $"{s.PercentileMs(99):0} / {s.MaxNanoseconds / 1e6:0}"))));
        }
        var baselineTps = baseline?.CallsPerSecond ?? 0;
        var ratio = baselineTps > 0 ? result.CallsPerSecond / baselineTps : 0;
        if (baseline is null)
        {
            Console.WriteLine("baseline     none applies (baseline_tps=0, ratio=0)");
        }
        else
        {
            Console.WriteLine(string.Create(inv,
                $"baseline     {baselineTps:N0} calls/s, p50 {baseline.Latency.PercentileMs(50):0.000} ms, p99 {baseline.Latency.PercentileMs(99):0.000} ms, {baseline.Errors:N0} failed (stored procedure, same server and concurrency)"));
            if (baselineCpu is not null)
                Console.WriteLine("             cpu per call: " + string.Join(", ",
                    baselineCpu.Processes.Select(p => string.Create(inv, $"{p.Name} {MicrosPerCall(p.CpuSeconds, baselineTps, baselineCpu):0} µs"))
                        .Append(string.Create(inv, $"machine {MicrosPerCall(baselineCpu.MachineCpuSeconds ?? 0, baselineTps, baselineCpu):0} µs"))));
            Console.WriteLine(string.Create(inv, $"ratio        {ratio:0.00}× the baseline"));
            // What the database alone allows: a bound no work in the silo, client or Api can lift.
            if (cpu.Processes.FirstOrDefault(p => p.Name == PostgresName) is { CpuSeconds: > 0 } postgres && result.CallsPerSecond > 0)
            {
                var micros = MicrosPerCall(postgres.CpuSeconds, result.CallsPerSecond, cpu);
                var ceiling = Environment.ProcessorCount * 1e6 / micros;
                Console.WriteLine(string.Create(inv,
                    $"ceiling      PostgreSQL alone used {micros:0} µs of CPU per call: {Environment.ProcessorCount} cores allow at most {ceiling:N0} calls/s, {ceiling / baselineTps:0.00}× the baseline, even if nothing else used any"));
            }
        }
        ResultLine = string.Create(inv,
            $"RESULT scenario={scenario} tps={result.CallsPerSecond:0} p50_ms={result.Latency.PercentileMs(50):0.000} p99_ms={result.Latency.PercentileMs(99):0.000} baseline_tps={baselineTps:0} ratio={ratio:0.00}");
    }

    /// <summary>The name under which the bench tracks PostgreSQL's process tree.</summary>
    public const string PostgresName = "postgres";

    private static double MicrosPerCall(double cpuSeconds, double callsPerSecond, CpuUsage cpu) =>
        callsPerSecond > 0 && cpu.WallSeconds > 0 ? cpuSeconds / (callsPerSecond * cpu.WallSeconds) * 1e6 : 0;

    /// <summary>
    /// The RESULT line of the scenario that ran: Program prints it last, after everything the scenario
    /// started has stopped and reported (silo metrics, WAL), so it is the output's final line.
    /// </summary>
    public static string? ResultLine { get; private set; }
}
