using BankGrains.TestSupport;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace BankGrains.Api.Tests.Infrastructure;

/// <summary>
/// The API with its co-hosted silo, in memory, storing in a SQLite file inside a private temp folder
/// that lives as long as the factory (one per test class, through IClassFixture).
/// </summary>
public class ApiFactory : WebApplicationFactory<Program>
{
    private readonly TempDirectory _data = new("bankgrains-api-tests-");

    public string DataDirectory => _data.Path;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Host settings reach builder.Configuration before Program reads it for the storage choice.
        builder.UseSetting("Storage:DataDirectory", _data.Path);
        builder.UseSetting("ConnectionStrings:Postgres", "");
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _data.Dispose();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _data.Dispose();
        GC.SuppressFinalize(this);
    }
}
