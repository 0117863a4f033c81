using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using BankGrains.TestSupport;

namespace BankGrains.Cluster.Tests.Infrastructure;

/// <summary>
/// A built dll run as `dotnet &lt;dll&gt;` in a child process, everything it prints (stdout and stderr,
/// time-stamped) appended to its own log file. Kill is a real SIGKILL; Pause and Resume are SIGSTOP
/// and SIGCONT. Dispose resumes a paused process, kills it if it still runs and reaps it.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private const int SigCont = 18; // Linux, x86-64 and arm64 alike
    private const int SigStop = 19;
    private static readonly TimeSpan ReapTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly object _logGate = new();
    private bool _logClosed;
    private volatile bool _paused;

    private ChildProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
        _log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    public string Name { get; }

    public string LogPath { get; }

    public int Pid { get; private set; }

    public bool HasExited => _process.HasExited;

    public bool IsPaused => _paused;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Starts `dotnet <paramref name="dll"/> <paramref name="args"/>` in the dll's folder with <paramref name="environment"/> added.</summary>
    public static ChildProcess Start(string name, string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(dll);
        foreach (var arg in args) startInfo.ArgumentList.Add(arg);
        // Nothing from the test runner's own hosting may leak into the child's configuration.
        foreach (var inherited in new[] { "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_URLS" })
            startInfo.Environment.Remove(inherited);
        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Production";
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment) startInfo.Environment[key] = value;

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, logPath);
        process.OutputDataReceived += (_, e) => child.Append(e.Data, "out");
        process.ErrorDataReceived += (_, e) => child.Append(e.Data, "err");
        child.Append($"$ {startInfo.FileName} {string.Join(' ', startInfo.ArgumentList)}", "test");
        process.Start();
        child.Pid = process.Id;
        StartWatchdog(child.Pid);
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>SIGKILL (Process.Kill): nothing runs in the child any more, not even a finally block.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: false);
        if (!_process.WaitForExit(ReapTimeout))
            throw new TimeoutException($"{Name} (pid {Pid}) did not die within {ReapTimeout.TotalSeconds} s of SIGKILL.");
        _paused = false;
        Append($"killed with SIGKILL, exit code {_process.ExitCode}", "test");
    }

    /// <summary>SIGSTOP: the process freezes where it is; its sockets stay open and the kernel keeps queueing what arrives.</summary>
    public void Pause()
    {
        Signal(SigStop, "SIGSTOP");
        _paused = true;
    }

    /// <summary>SIGCONT: the process runs on from where it was stopped, with its clocks far ahead.</summary>
    public void Resume()
    {
        Signal(SigCont, "SIGCONT");
        _paused = false;
    }

    /// <summary>True when the process exited (and its output was drained) within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return _process.HasExited;
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of this process's log file.</summary>
    public string Tail(int lines)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            var tail = all.Length <= lines ? all : all[^lines..];
            return string.Join('\n', tail).TrimEnd();
        }
        catch (IOException e)
        {
            return $"(log {LogPath} unreadable: {e.Message})";
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                // A stopped process dies of SIGKILL too, but let it run first so nothing is left frozen.
                if (_paused) TrySignal(SigCont);
                _process.Kill(entireProcessTree: false);
                _process.WaitForExit(ReapTimeout);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // already gone
        }
        lock (_logGate)
        {
            _logClosed = true;
            _log.Dispose();
        }
        _process.Dispose();
    }

    private void Signal(int signal, string name)
    {
        if (_process.HasExited) throw new InvalidOperationException($"{Name} (pid {Pid}) already exited with code {_process.ExitCode}; cannot send {name}.");
        if (!TrySignal(signal))
            throw new InvalidOperationException($"kill({Pid}, {name}) failed: errno {Marshal.GetLastPInvokeError()}.");
        Append($"sent {name}", "test");
    }

    private bool TrySignal(int signal) => NativeMethods.SendSignal(Pid, signal) == 0;

    private void Append(string? line, string stream)
    {
        if (line is null) return;
        lock (_logGate)
        {
            if (_logClosed) return;
            _log.Write(DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture));
            _log.Write(stream == "out" ? " | " : stream == "err" ? " ! " : " # ");
            _log.WriteLine(line);
        }
    }

    /// <summary>
    /// A detached shell (setsid -f: nobody's child) that SIGKILLs the child should this test process
    /// die without disposing it (a test runner that kills the host on a hang or a cancel), so no silo
    /// outlives the run. It ends by itself as soon as the child is gone.
    /// </summary>
    private static void StartWatchdog(int childPid)
    {
        const string script =
            "exec </dev/null >/dev/null 2>&1; " +
            "while kill -0 \"$1\" && kill -0 \"$2\"; do sleep 0.5; done; " +
            "if kill -0 \"$2\"; then kill -CONT \"$2\"; kill -KILL \"$2\"; fi";
        var startInfo = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "-f", "sh", "-c", script, "bankgrains-cluster-watchdog",
                     Environment.ProcessId.ToString(CultureInfo.InvariantCulture), childPid.ToString(CultureInfo.InvariantCulture) })
            startInfo.ArgumentList.Add(arg);
        try
        {
            using var watchdog = Process.Start(startInfo);
            watchdog?.WaitForExit(5_000); // setsid -f returns once the shell is forked off
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No setsid: Dispose still kills the child; only a killed test host could leave it behind.
        }
    }

    /// <summary>The dotnet host running this test (the CLI sets DOTNET_HOST_PATH), else dotnet on PATH.</summary>
    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }

    /// <summary>
    /// The build output of <paramref name="project"/> (Silo, Api) for the configuration this test
    /// assembly was built with: &lt;repo&gt;/&lt;project&gt;/bin/&lt;Configuration&gt;/net10.0/BankGrains.&lt;project&gt;.dll.
    /// </summary>
    public static string BuiltDll(string project) => BuiltProject.Dll(project, $"BankGrains.{project}", typeof(ChildProcess).Assembly);

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int SendSignal(int pid, int sig);
    }
}
