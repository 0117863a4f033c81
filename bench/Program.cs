using System.Globalization;
using BankGrains.Bench;

// One command per scenario: dotnet run -c Release --project bench -- <scenario> [--seconds N] [options]
if (args.Length > 0 && args[0] == SiloHost.Mode) return await SiloHost.RunAsync(args[1..]);

if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
{
    PrintUsage(Console.Out);
    return 0;
}

if (!Scenarios.All.TryGetValue(args[0], out var scenario))
{
    Console.Error.WriteLine($"Unknown scenario '{args[0]}'.");
    PrintUsage(Console.Error);
    return 2;
}

Options options;
try
{
    options = Options.Parse(args[1..], scenario.Defaults);
}
catch (FormatException e)
{
    Console.Error.WriteLine(e.Message);
    PrintUsage(Console.Error);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true; // let the scenario stop what it started
    Console.Error.WriteLine("Ctrl-C: stopping …");
    cancel.Cancel();
};

// SIGTERM (kill, a CI timeout) stops the same way: the scenario's finally blocks stop what it started.
using var onSigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    Console.Error.WriteLine("SIGTERM: stopping …");
    cancel.Cancel();
});

Console.WriteLine(Machine.Describe());
try
{
    var exitCode = await scenario.Run(options, cancel.Token);
    if (Report.ResultLine is { } result) Console.WriteLine(result);
    return exitCode;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}
catch (Exception e)
{
    Console.Error.WriteLine($"scenario {args[0]} failed: {e}");
    return 1;
}

static void PrintUsage(TextWriter to)
{
    to.WriteLine("usage: dotnet run -c Release --project bench -- <scenario> [options]");
    to.WriteLine();
    to.WriteLine("scenarios:");
    foreach (var (name, entry) in Scenarios.All) to.WriteLine($"  {name,-15} {entry.Description}");
    to.WriteLine();
    to.WriteLine("options:");
    to.WriteLine("  --seconds N       measured time (default 10)");
    to.WriteLine("  --warmup N        warm-up seconds before measuring (ping: 3, transfers: 15)");
    to.WriteLine("  --concurrency N   concurrent callers, closed loop (ping: 256, transfers: 64)");
    to.WriteLine("  --grains N        ping: distinct grain ids called round-robin (default 1024)");
    to.WriteLine("  --silos N         silo processes (ping-remote: 2, transfers: 1)");
    to.WriteLine("  --accounts N      transfers: accounts (default 1000)");
    to.WriteLine("  --rounds N        transfers: measure baseline and grains in turn N times, report the median ratio (default 1)");
    to.WriteLine("  --wal-mb N        transfers: WAL prepared before the run as on a server in steady state (default 2048; 0: none)");
    to.WriteLine("  --pg-statements N print PostgreSQL's N most expensive statements at the end (default 0: off)");
    to.WriteLine("  --pg NAME=VALUE   a PostgreSQL setting for the run's server, baseline and grains alike (repeatable)");
    to.WriteLine("  --api ROLE        uniform-rest: the Api process as a cluster client (client, default) or as one of the --silos (silo)");
    to.WriteLine();
    to.WriteLine("Each run prints a MACHINE line first and ends with");
    to.WriteLine("RESULT scenario=<name> tps=<n> p50_ms=<n> p99_ms=<n> baseline_tps=<n> ratio=<n>");
}

namespace BankGrains.Bench
{
    public sealed record Options(int Seconds, int Warmup, int Concurrency, int Grains, int Silos, int Accounts = 1000, int PgStatements = 0, int Rounds = 1,
        int WalMegabytes = PreparedWal.DefaultMegabytes)
    {
        /// <summary>uniform-rest: the Api process as a cluster client (<c>client</c>) or as one of the silos (<c>silo</c>, co-hosted).</summary>
        public string Api { get; init; } = "client";

        public bool ApiInSilo => Api == "silo";

        /// <summary>Extra settings for the run's PostgreSQL server (<c>--pg name=value</c>).</summary>
        public IReadOnlyList<string> PgSettings { get; init; } = [];

        public static Options Parse(string[] args, Options defaults)
        {
            var o = defaults;
            for (var i = 0; i < args.Length; i++)
            {
                var name = args[i];
                if (i + 1 >= args.Length) throw new FormatException($"{name} needs a value.");
                if (name == "--pg")
                {
                    var setting = args[++i];
                    if (!System.Text.RegularExpressions.Regex.IsMatch(setting, @"^[a-z_][a-z0-9_.]*=[^\s]+$"))
                        throw new FormatException($"--pg needs name=value (a PostgreSQL setting without spaces), not '{setting}'.");
                    // Every figure is for durable commits: these stay on.
                    if (setting.Split('=')[0] is "fsync" or "synchronous_commit" or "full_page_writes")
                        throw new FormatException($"--pg {setting}: the benchmarks measure durable commits, so fsync, synchronous_commit and full_page_writes stay on.");
                    o = o with { PgSettings = [.. o.PgSettings, setting] };
                    continue;
                }
                if (name == "--api")
                {
                    var role = args[++i];
                    if (role is not ("client" or "silo")) throw new FormatException($"--api needs client or silo, not '{role}'.");
                    o = o with { Api = role };
                    continue;
                }
                if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                    throw new FormatException($"{name} needs a whole number, not '{args[i]}'.");
                o = name switch
                {
                    "--seconds" when value >= 1 => o with { Seconds = value },
                    "--warmup" => o with { Warmup = value },
                    "--concurrency" when value >= 1 => o with { Concurrency = value },
                    "--grains" when value >= 1 => o with { Grains = value },
                    "--silos" when value >= 1 => o with { Silos = value },
                    "--accounts" when value >= 2 => o with { Accounts = value },
                    "--pg-statements" => o with { PgStatements = value },
                    "--rounds" when value >= 1 => o with { Rounds = value },
                    "--wal-mb" => o with { WalMegabytes = value },
                    _ => throw new FormatException($"Unknown option or bad value: {name} {value}."),
                };
            }
            return o;
        }
    }
}
