using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace BankGrains.Bench;

/// <summary>
/// A throwaway PostgreSQL for one benchmark run, started the way tests/BankGrains.TestSupport does it:
/// initdb + pg_ctl in a temp folder (as the postgres user via runuser when we are root, since
/// PostgreSQL refuses to run as root), trust auth, 127.0.0.1 on a free port, fsync on. A detached
/// watchdog stops it should this process die without doing so. Dispose stops it and deletes the folder.
/// </summary>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    private const string SuperUser = "postgres";
    private readonly string _bin;
    private readonly bool _asPostgres;
    private int _stopped;

    private ThrowawayPostgres(string bin, bool asPostgres, string root)
    {
        _bin = bin;
        _asPostgres = asPostgres;
        Root = root;
    }

    public string Root { get; }

    public int Port { get; private set; }

    private string Data => Path.Combine(Root, "data");

    private string Log => Path.Combine(Root, "server.log");

    public string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SuperUser,
        Database = "postgres",
        Pooling = true,
        Timeout = 15,
        CommandTimeout = 60,
    }.ToString();

    public static async Task<ThrowawayPostgres> StartAsync(CancellationToken ct)
    {
        var bin = FindBin();
        var asPostgres = Environment.IsPrivilegedProcess;
        // Short folder name: the Unix socket lives inside it; /tmp so the postgres user can reach it.
        var root = Path.Combine(asPostgres ? "/tmp" : Path.GetTempPath(), "bgbench-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        var server = new ThrowawayPostgres(bin, asPostgres, root);
        try
        {
            await server.InitAndStartAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task InitAndStartAsync(CancellationToken ct)
    {
        if (_asPostgres) await CheckedAsync("chown", ["-R", $"{SuperUser}:{SuperUser}", Root], asPostgres: false, ct);
        await CheckedAsync(Tool("initdb"), ["-D", Data, "-U", SuperUser, "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"], asPostgres: true, ct);
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            var options = $"-p {Port} -k {Root} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200";
            var (code, output) = await RunAsync(Tool("pg_ctl"), ["-D", Data, "-w", "-t", "60", "-l", Log, "-o", options, "start"], asPostgres: true, ct);
            if (code == 0) break;
            var log = File.Exists(Log) ? await File.ReadAllTextAsync(Log, ct) : "";
            if (attempt < 5 && (log.Contains("could not bind", StringComparison.OrdinalIgnoreCase) || log.Contains("already in use", StringComparison.OrdinalIgnoreCase))) continue;
            throw new InvalidOperationException($"pg_ctl start failed ({code}):\n{output}\n{log}");
        }
        StartWatchdog();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        var probe = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 5 }.ToString();
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync(ct);
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, ct);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        try
        {
            if (File.Exists(Path.Combine(Data, "postmaster.pid")))
                await RunAsync(Tool("pg_ctl"), ["-D", Data, "-m", "immediate", "-w", "-t", "15", "stop"], asPostgres: true, CancellationToken.None);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"warning: stopping PostgreSQL failed: {e.Message}");
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The watchdog deletes it too once we exit.
        }
    }

    /// <summary>Synchronous last resort for ProcessExit.</summary>
    public void StopNow() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private void StartWatchdog()
    {
        const string script =
            "exec </dev/null >/dev/null 2>&1; " +
            "while kill -0 \"$1\"; do sleep 0.5; done; " +
            "if [ -f \"$3/postmaster.pid\" ]; then " +
            "  if [ \"$5\" = yes ]; then runuser -u postgres -- \"$2\" -D \"$3\" -m immediate -w -t 15 stop; " +
            "  else \"$2\" -D \"$3\" -m immediate -w -t 15 stop; fi; " +
            "fi; rm -rf \"$4\"";
        var info = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-f", "sh", "-c", script, "bankgrains-bench-pg-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), Tool("pg_ctl"), Data, Root, _asPostgres ? "yes" : "no" })
            info.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(info);
            p?.WaitForExit(5_000);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No setsid: Dispose still stops the server.
        }
    }

    private string Tool(string name) => Path.Combine(_bin, name);

    private static string FindBin()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("BANKGRAINS_PG_BIN") is { Length: > 0 } overridden) candidates.Add(overridden);
        candidates.Add("/usr/lib/postgresql/15/bin");
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
            ?? throw new InvalidOperationException("PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql or set BANKGRAINS_PG_BIN.");
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private async Task CheckedAsync(string file, string[] args, bool asPostgres, CancellationToken ct)
    {
        var (code, output) = await RunAsync(file, args, asPostgres, ct);
        if (code != 0) throw new InvalidOperationException($"{file} failed ({code}): {output}");
    }

    private async Task<(int Code, string Output)> RunAsync(string file, string[] args, bool asPostgres, CancellationToken ct)
    {
        var viaRunuser = asPostgres && _asPostgres;
        var info = new ProcessStartInfo(viaRunuser ? "runuser" : file)
        {
            WorkingDirectory = Root,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (viaRunuser) foreach (var a in new[] { "-u", SuperUser, "--", file }) info.ArgumentList.Add(a);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["LC_ALL"] = "C";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        // pg_ctl start leaves the postmaster holding inherited pipes: don't wait for them forever.
        await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(TimeSpan.FromSeconds(3), CancellationToken.None));
        var output = new StringBuilder();
        if (stdout.IsCompletedSuccessfully) output.Append(stdout.Result);
        if (stderr.IsCompletedSuccessfully) output.Append(stderr.Result);
        return (process.ExitCode, output.ToString());
    }
}
