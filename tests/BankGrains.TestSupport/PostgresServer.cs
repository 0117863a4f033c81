using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace BankGrains.TestSupport;

/// <summary>
/// A throwaway PostgreSQL server started from the machine's binaries (initdb + pg_ctl) in a temp
/// folder, listening on a free port of 127.0.0.1 with trust authentication for user "postgres".
/// Tests get isolated databases from <see cref="CreateDatabaseAsync"/>; most should share one server
/// per test process through <see cref="SharedAsync"/> rather than start their own.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string SuperUser = "postgres";
    private const string FolderPrefix = "bgpg-";
    private const string OwnerFile = "owner.pid";
    private const int StartAttempts = 5;

    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartSharedAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _binDirectory;
    private readonly bool _runAsPostgresUser;
    private bool _isShared;
    private int _stopped;
    private int _databaseCounter;

    private PostgresServer(string binDirectory, bool runAsPostgresUser, string rootDirectory)
    {
        _binDirectory = binDirectory;
        _runAsPostgresUser = runAsPostgresUser;
        RootDirectory = rootDirectory;
    }

    /// <summary>The temp folder holding data/, the Unix socket and server.log; deleted on stop.</summary>
    public string RootDirectory { get; }

    public string DataDirectory => Path.Combine(RootDirectory, "data");

    public string LogFile => Path.Combine(RootDirectory, "server.log");

    public int Port { get; private set; }

    /// <summary>Connects as the superuser to the "postgres" maintenance database.</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    /// <summary>
    /// The server of this test process: started on first call, stopped when the process exits (on
    /// ProcessExit, and by a detached watchdog should the test runner kill the host first).
    /// Disposing it does nothing, since other test classes may still use it.
    /// </summary>
    public static Task<PostgresServer> SharedAsync() => Shared.Value;

    /// <summary>Starts a private server; the caller disposes it.</summary>
    /// <param name="settings">Extra server settings ("name=value"), e.g. to load an extension.</param>
    public static async Task<PostgresServer> StartAsync(CancellationToken ct = default, IReadOnlyList<string>? settings = null)
    {
        var binDirectory = FindBinDirectory();
        // initdb and postgres refuse to run as root; as root we hand the folder to the postgres user.
        var runAsPostgresUser = Environment.IsPrivilegedProcess;
        var baseDirectory = TempBase(runAsPostgresUser);
        SweepAbandonedServers(baseDirectory, binDirectory, runAsPostgresUser);

        var server = new PostgresServer(binDirectory, runAsPostgresUser, CreateRootDirectory(baseDirectory));
        try
        {
            await server.InitAndStartAsync(settings ?? [], ct).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Creates a new, empty UTF-8 database and returns a connection string for it. <paramref name="name"/>
    /// is a readable prefix: a counter is appended, so two callers asking for the same name still get
    /// separate databases.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var prefix = new string(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        if (prefix.Length > 40) prefix = prefix[..40];
        var database = $"{prefix}_{Interlocked.Increment(ref _databaseCounter)}";

        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        // template0: nobody is ever connected to it, so concurrent CREATE DATABASE calls cannot collide.
        await using var cmd = new NpgsqlCommand(
            $"CREATE DATABASE \"{database}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'", connection);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return ConnectionStringFor(database);
    }

    public string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SuperUser,
        Database = database,
        Pooling = true,
        Timeout = 15,
        CommandTimeout = 60,
        IncludeErrorDetail = true,
    }.ToString();

    /// <summary>Stops the server at once (pg_ctl stop -m immediate) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_isShared) return;
        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Where the binaries are: /usr/lib/postgresql/15/bin, then `pg_config --bindir`, then PATH.
    /// BANKGRAINS_PG_BIN overrides all three.
    /// </summary>
    public static string FindBinDirectory()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("BANKGRAINS_PG_BIN") is { Length: > 0 } overridden) candidates.Add(overridden);
        candidates.Add("/usr/lib/postgresql/15/bin");
        if (PgConfigBinDirectory() is { } fromPgConfig) candidates.Add(fromPgConfig);
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));

        foreach (var directory in candidates)
        {
            if (File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl")))
                return directory;
        }
        throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/15/bin, `pg_config --bindir` or PATH. " +
            "Install them with `apt-get install postgresql-15` (or `apt-get install postgresql`), or point BANKGRAINS_PG_BIN at their folder.");
    }

    private static async Task<PostgresServer> StartSharedAsync()
    {
        var server = await StartAsync().ConfigureAwait(false);
        server._isShared = true;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopAsync().AsTask().GetAwaiter().GetResult();
        return server;
    }

    private async Task InitAndStartAsync(IReadOnlyList<string> settings, CancellationToken ct)
    {
        // Lets a later run find and stop this server if this process dies without stopping it.
        await File.WriteAllTextAsync(Path.Combine(RootDirectory, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        if (_runAsPostgresUser)
            await RunCheckedAsync("chown", ["-R", $"{SuperUser}:{SuperUser}", RootDirectory], "chown", ct).ConfigureAwait(false);

        await RunCheckedAsync(Tool("initdb"),
            ["-D", DataDirectory, "-U", SuperUser, "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"],
            "initdb", ct, asPostgres: true).ConfigureAwait(false);

        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort.Next();
            var options = $"-p {Port} -k {RootDirectory} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" +
                string.Concat(settings.Select(setting => $" -c {setting}"));
            var result = await RunAsync(Tool("pg_ctl"), ["-D", DataDirectory, "-w", "-t", "60", "-l", LogFile, "-o", options, "start"], ct, asPostgres: true).ConfigureAwait(false);
            if (result.ExitCode == 0) break;

            var log = ReadLog();
            // The port was free when picked but someone else may have bound it since: pick another.
            var portTaken = log.Contains("could not bind", StringComparison.OrdinalIgnoreCase) || log.Contains("already in use", StringComparison.OrdinalIgnoreCase);
            if (portTaken && attempt < StartAttempts) continue;
            throw new InvalidOperationException($"pg_ctl start failed (exit code {result.ExitCode}, port {Port}).\n{result.Output}\n--- {LogFile} ---\n{log}");
        }

        StartWatchdog();
        await WaitUntilAcceptingConnectionsAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// A detached shell (setsid -f, so it is nobody's child) that waits for this test process to end,
    /// then stops the server and deletes its folder. Test runners kill the test host moments after
    /// ProcessExit begins, too soon for an in-process stop to finish; this does it from outside.
    /// </summary>
    private void StartWatchdog()
    {
        const string script =
            "exec </dev/null >/dev/null 2>&1; " +
            "while kill -0 \"$1\"; do sleep 0.2; done; " +
            "if [ -f \"$3/postmaster.pid\" ]; then " +
            "  if [ \"$5\" = yes ]; then runuser -u postgres -- \"$2\" -D \"$3\" -m immediate -w -t 15 stop; " +
            "  else \"$2\" -D \"$3\" -m immediate -w -t 15 stop; fi; " +
            "fi; " +
            "rm -rf \"$4\"";
        var startInfo = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            // Our ends of these pipes close at once; the script points its own at /dev/null, so the
            // test runner never waits on output the watchdog might hold open.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "-f", "sh", "-c", script, "bankgrains-pg-watchdog",
                     Environment.ProcessId.ToString(CultureInfo.InvariantCulture), Tool("pg_ctl"), DataDirectory, RootDirectory,
                     _runAsPostgresUser ? "yes" : "no" })
            startInfo.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(startInfo);
            process?.WaitForExit(5_000); // setsid -f returns as soon as the watchdog is forked off
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No setsid: the in-process stop and the sweep on the next start still clean up.
        }
    }

    private async Task WaitUntilAcceptingConnectionsAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 5 };
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ToString());
                await connection.OpenAsync(ct).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                throw new InvalidOperationException($"PostgreSQL on port {Port} did not accept connections within 30 s.\n--- {LogFile} ---\n{ReadLog()}", e);
            }
        }
    }

    private async ValueTask StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                var result = await RunAsync(Tool("pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "15", "stop"], CancellationToken.None, asPostgres: true).ConfigureAwait(false);
                if (result.ExitCode != 0) KillPostmaster(DataDirectory);
            }
        }
        catch (Exception)
        {
            KillPostmaster(DataDirectory); // stopping is best effort; the folder still goes
        }
        TempDirectory.DeleteRecursively(RootDirectory);
    }

    private string Tool(string name) => Path.Combine(_binDirectory, name);

    private string ReadLog()
    {
        try
        {
            return File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no server log)";
        }
        catch (IOException e)
        {
            return $"(server log unreadable: {e.Message})";
        }
    }

    private async Task RunCheckedAsync(string file, IReadOnlyList<string> args, string what, CancellationToken ct, bool asPostgres = false)
    {
        var result = await RunAsync(file, args, ct, asPostgres).ConfigureAwait(false);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{what} failed (exit code {result.ExitCode}): {file} {string.Join(' ', args)}\n{result.Output}");
    }

    private Task<(int ExitCode, string Output)> RunAsync(string file, IReadOnlyList<string> args, CancellationToken ct, bool asPostgres)
        => RunProcessAsync(file, args, RootDirectory, asPostgres && _runAsPostgresUser, ct);

    /// <summary>Runs a tool (as the postgres user via runuser when asked) and returns its exit code and all it printed.</summary>
    private static async Task<(int ExitCode, string Output)> RunProcessAsync(
        string file, IReadOnlyList<string> args, string workingDirectory, bool asPostgres, CancellationToken ct)
    {
        var startInfo = new ProcessStartInfo
        {
            FileName = asPostgres ? "runuser" : file,
            // The postgres user may not be allowed into the test's own working directory.
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", SuperUser, "--", file }) startInfo.ArgumentList.Add(a);
        }
        foreach (var a in args) startInfo.ArgumentList.Add(a);
        startInfo.Environment["LC_ALL"] = "C";

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Could not start {startInfo.FileName}: {e.Message}", e);
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in time.");
        }

        // A child that inherited the pipes could keep them open; don't wait for it forever.
        await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
        var output = new StringBuilder();
        if (stdout.IsCompletedSuccessfully) output.Append(stdout.Result);
        if (stderr.IsCompletedSuccessfully) output.Append(stderr.Result);
        return (process.ExitCode, output.ToString());
    }

    private static string? PgConfigBinDirectory()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("pg_config", "--bindir")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEnd().Trim();
            return process.WaitForExit(10_000) && process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no pg_config on PATH
        }
    }

    /// <summary>The temp folder, unless the postgres user could not reach into it (a private TMPDIR as root).</summary>
    private static string TempBase(bool runAsPostgresUser)
    {
        var temp = Path.GetTempPath();
        if (!runAsPostgresUser || OperatingSystem.IsWindows()) return temp;
        for (var dir = new DirectoryInfo(temp); dir is not null; dir = dir.Parent)
        {
            if ((File.GetUnixFileMode(dir.FullName) & UnixFileMode.OtherExecute) == 0) return "/tmp";
        }
        return temp;
    }

    private static string CreateRootDirectory(string baseDirectory)
    {
        // Short names: the Unix socket path (inside this folder) must stay under ~100 bytes.
        for (var attempt = 0; ; attempt++)
        {
            var path = Path.Combine(baseDirectory, FolderPrefix + Guid.NewGuid().ToString("N")[..10]);
            if (Directory.Exists(path) && attempt < 10) continue;
            if (OperatingSystem.IsWindows()) return Directory.CreateDirectory(path).FullName;
            return Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        }
    }

    /// <summary>
    /// Stops servers left behind by test processes that died without stopping them (killed runs,
    /// crashed hosts), so they do not pile up holding ports and memory.
    /// </summary>
    private static void SweepAbandonedServers(string baseDirectory, string binDirectory, bool runAsPostgresUser)
    {
        string[] folders;
        try
        {
            folders = Directory.GetDirectories(baseDirectory, FolderPrefix + "*");
        }
        catch (IOException)
        {
            return;
        }
        catch (UnauthorizedAccessException)
        {
            return;
        }

        foreach (var folder in folders)
        {
            try
            {
                var ownerFile = Path.Combine(folder, OwnerFile);
                if (!File.Exists(ownerFile)
                    || !int.TryParse(File.ReadAllText(ownerFile), NumberStyles.None, CultureInfo.InvariantCulture, out var owner)
                    || IsAlive(owner))
                    continue;

                var dataDirectory = Path.Combine(folder, "data");
                if (File.Exists(Path.Combine(dataDirectory, "postmaster.pid")))
                {
                    var result = RunProcessAsync(Path.Combine(binDirectory, "pg_ctl"), ["-D", dataDirectory, "-m", "immediate", "-w", "-t", "15", "stop"],
                        folder, runAsPostgresUser, CancellationToken.None).GetAwaiter().GetResult();
                    if (result.ExitCode != 0) KillPostmaster(dataDirectory);
                }
                TempDirectory.DeleteRecursively(folder);
            }
            catch (Exception)
            {
                // Someone else's folder or a race with its owner: leave it.
            }
        }
    }

    private static bool IsAlive(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Last resort when pg_ctl cannot stop the server: kill the postmaster named in postmaster.pid.</summary>
    private static void KillPostmaster(string dataDirectory)
    {
        try
        {
            var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
            if (!File.Exists(pidFile)) return;
            var firstLine = File.ReadLines(pidFile).FirstOrDefault();
            if (!int.TryParse(firstLine, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) return;
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (Exception)
        {
            // Already gone, or not ours to kill.
        }
    }
}
