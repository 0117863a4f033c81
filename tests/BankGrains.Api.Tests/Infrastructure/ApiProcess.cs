using System.Diagnostics;
using System.Net;
using System.Text;
using BankGrains.TestSupport;

namespace BankGrains.Api.Tests.Infrastructure;

/// <summary>
/// The built API (Api/bin/&lt;Configuration&gt;/net10.0/BankGrains.Api.dll) running as a real child process on
/// a free port of 127.0.0.1, storing in a given folder. Dispose kills it if it still runs.
/// </summary>
public sealed class ApiProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(45);
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ApiProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public int Id => _process.Id;

    /// <summary>What the process printed so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>Starts the API and returns once GET /health answers 200; retries on another port if the chosen one was taken.</summary>
    public static async Task<ApiProcess> StartAsync(string dataDirectory, CancellationToken ct)
    {
        var dll = ApiDll();
        for (var attempt = 1; ; attempt++)
        {
            var process = Start(dll, dataDirectory, FreePort.Next());
            try
            {
                await process.WaitUntilHealthyAsync(ct);
                return process;
            }
            catch (Exception) when (attempt < 3 && process._process.HasExited && process.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                process.Dispose();
            }
            catch
            {
                process.Dispose();
                throw;
            }
        }
    }

    /// <summary>SIGKILL: no graceful shutdown, no flushing, nothing runs.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: false);
        if (!_process.WaitForExit(10_000)) throw new TimeoutException($"API process {_process.Id} did not die after SIGKILL.");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) Kill();
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
        Client.Dispose();
        _process.Dispose();
    }

    private static ApiProcess Start(string dll, string dataDirectory, int port)
    {
        var url = $"http://127.0.0.1:{port}";
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            // appsettings.json is found in the content root, which is the working directory.
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(dll);
        startInfo.ArgumentList.Add("--urls");
        startInfo.ArgumentList.Add(url);
        startInfo.Environment["Storage__DataDirectory"] = dataDirectory;
        startInfo.Environment["ConnectionStrings__Postgres"] = "";
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        startInfo.Environment.Remove("ASPNETCORE_URLS");
        startInfo.Environment.Remove("ASPNETCORE_HTTP_PORTS");

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var api = new ApiProcess(process, new Uri(url));
        process.OutputDataReceived += (_, e) => api.Append(e.Data);
        process.ErrorDataReceived += (_, e) => api.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return api;
    }

    private async Task WaitUntilHealthyAsync(CancellationToken ct)
    {
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (_process.HasExited)
                throw new InvalidOperationException($"The API process exited with code {_process.ExitCode} before it was healthy.\n{Output}");
            try
            {
                using var response = await probe.GetAsync("/health", ct);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // probe timed out; try again
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The API at {BaseAddress} was not healthy within {StartTimeout.TotalSeconds} s.\n{Output}");
            await Task.Delay(100, ct);
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    /// <summary>The API's build output for the configuration this test assembly was built with.</summary>
    private static string ApiDll() => BuiltProject.Dll("Api", "BankGrains.Api", typeof(ApiProcess).Assembly);

    /// <summary>The dotnet host that runs this test (the CLI sets DOTNET_HOST_PATH), else dotnet on PATH.</summary>
    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }
}
