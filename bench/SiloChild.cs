using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using BankGrains.Runtime.Hosting;
using BankGrains.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BankGrains.Bench;

/// <summary>
/// A child process of the bench: a silo (this same executable in the hidden <c>silo-host</c> mode) or
/// the Api (a cluster client, or a silo serving HTTP too). Output goes to a log file. A silo host
/// stops gracefully when its stdin closes, which happens when we ask it to (<see cref="StopAsync"/>)
/// and also when this process dies for any reason, so no silo host outlives the run. The Api does
/// not read its stdin: it is stopped with SIGTERM, and killed when this process exits (only a
/// SIGKILL of the bench leaves it running).
/// </summary>
public sealed class SiloChild : IAsyncDisposable
{
    private readonly StreamWriter _log;
    // The Api does not read its stdin; like any .NET host it stops gracefully on SIGTERM.
    private readonly bool _stopsOnSigterm;
    private int _stopped;

    private SiloChild(string name, int port, Process process, StreamWriter log, string logPath, bool stopsOnSigterm)
    {
        Name = name;
        Port = port;
        Process = process;
        _log = log;
        LogPath = logPath;
        _stopsOnSigterm = stopsOnSigterm;
    }

    public string Name { get; }
    public int Port { get; }
    public Process Process { get; }
    public string LogPath { get; }

    public static SiloChild Start(string name, int port, IReadOnlyDictionary<string, string> environment, string logDirectory)
    {
        var (file, prefix) = SelfCommand();
        var info = NewStartInfo(file, environment);
        foreach (var a in prefix) info.ArgumentList.Add(a);
        info.ArgumentList.Add(SiloHost.Mode);
        AsSilo(info, name, port);
        return Start(name, port, info, logDirectory, stopsOnSigterm: false);
    }

    /// <summary>
    /// The Api (BankGrains.Api.dll, built next to this bench) serving HTTP on 127.0.0.1:<paramref name="port"/>:
    /// a cluster client, or with <paramref name="siloPort"/> a silo of the cluster itself (co-hosted).
    /// </summary>
    public static SiloChild StartApi(int port, IReadOnlyDictionary<string, string> environment, string logDirectory, int? siloPort = null)
    {
        var info = NewStartInfo(Environment.ProcessPath ?? "dotnet", environment);
        if (!Path.GetFileNameWithoutExtension(info.FileName).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) info.FileName = "dotnet";
        info.ArgumentList.Add(ApiDll());
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        if (siloPort is { } silo) AsSilo(info, "api", silo);
        else info.Environment["Cluster__Role"] = "client";
        // The Api ends with the same closing lines as a bench silo (StartupHook, loaded from this bench).
        info.Environment["DOTNET_STARTUP_HOOKS"] = typeof(StartupHook).Assembly.Location;
        return Start("api", port, info, logDirectory, stopsOnSigterm: true);
    }

    private static void AsSilo(ProcessStartInfo info, string name, int siloPort)
    {
        info.Environment["Cluster__Role"] = "silo";
        info.Environment["Cluster__SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["Cluster__SiloName"] = name;
        info.Environment["Cluster__ListenAddress"] = "127.0.0.1";
        info.Environment["Cluster__AdvertisedAddress"] = "127.0.0.1";
    }

    private static ProcessStartInfo NewStartInfo(string file, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment) info.Environment[key] = value;
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        return info;
    }

    /// <summary>The Api build of the same configuration as this bench (the bench project builds it first).</summary>
    private static string ApiDll() => BuiltProject.Dll("Api", "BankGrains.Api", typeof(SiloChild).Assembly);

    private static SiloChild Start(string name, int port, ProcessStartInfo info, string logDirectory, bool stopsOnSigterm)
    {
        var logPath = Path.Combine(logDirectory, name + ".log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new SiloChild(name, port, process, log, logPath, stopsOnSigterm);
    }

    public string Tail(int lines)
    {
        try
        {
            lock (_log)
            {
                using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(stream);
                var all = reader.ReadToEnd().Split('\n');
                return string.Join('\n', all.TakeLast(lines));
            }
        }
        catch (IOException e)
        {
            return $"(log unreadable: {e.Message})";
        }
    }

    /// <summary>Graceful stop (stdin closed for a silo host, SIGTERM for the Api → the host stops), then a kill after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        try
        {
            if (!Process.HasExited)
            {
                Process.StandardInput.Close();
                if (_stopsOnSigterm) Terminate(Process.Id);
            }
            using var timeout = new CancellationTokenSource(grace);
            await Process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            KillNow();
        }
    }

    private static void Terminate(int pid)
    {
        const int sigterm = 15;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) _ = SendSignal(pid, sigterm);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public void KillNow()
    {
        try
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // already gone
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(15));
        KillNow();
        Process.Dispose();
        lock (_log) _log.Dispose();
    }

    /// <summary>How to run this program again: the apphost directly, or `dotnet bench.dll`.</summary>
    private static (string File, string[] Prefix) SelfCommand()
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("Unknown process path.");
        var isDotnetHost = Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        return isDotnetHost ? (processPath, [Assembly.GetEntryAssembly()!.Location]) : (processPath, []);
    }
}

/// <summary>The hidden <c>silo-host</c> mode: a silo joined to the cluster in ConnectionStrings:Postgres, hosting the ping grain and the bank.</summary>
public static class SiloHost
{
    public const string Mode = "silo-host";

    public static async Task<int> RunAsync(string[] args)
    {
        using var timeline = SiloTimeline.Start();
        using var gcPauses = new GcPauses(timeline);
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddBankGrains(builder.Configuration, typeof(PingGrain).Assembly, typeof(Grains.AccountGrain).Assembly);
        using var host = builder.Build();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        // The parent closes our stdin to stop us, and it closes by itself when the parent dies.
        _ = Task.Run(async () =>
        {
            try
            {
                while (await Console.In.ReadLineAsync() is not null)
                {
                }
            }
            catch (IOException)
            {
            }
            lifetime.StopApplication();
        });
        await host.RunAsync();
        PrintSummary(timeline, gcPauses);
        return 0;
    }

    /// <summary>
    /// The closing lines the bench reads from a silo's log (and from the Api's, see <see cref="StartupHook"/>):
    /// its transactions, when it ran any, its GC pauses, and its timeline.
    /// </summary>
    internal static void PrintSummary(SiloTimeline timeline, GcPauses gcPauses)
    {
        var transactions = Runtime.Transactions.TransactionMetrics.Snapshot();
        if (transactions.Committed + transactions.Aborted > 0) Console.WriteLine($"transactions: {transactions}");
        Console.WriteLine(gcPauses.Summary(transactions.Committed));
        Console.WriteLine(timeline.Format());
    }
}
