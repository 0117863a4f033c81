using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Storage;
using BankGrains.TestSupport;

namespace BankGrains.Runtime.Tests.Persistence;

public sealed class SqliteGrainStorageTests : DurableGrainStorageConformanceTests
{
    private readonly TempDirectory _directory = new("bankgrains-sqlite-");
    private readonly List<SqliteDatabase> _databases = [];

    // A folder that does not exist yet: the database must create it.
    private string DatabasePath => _directory.Combine("data", "grains.db");

    protected override Task<IGrainStorage> CreateStorageAsync(string serviceId)
    {
        var database = new SqliteDatabase(DatabasePath);
        _databases.Add(database);
        return Task.FromResult<IGrainStorage>(new SqliteGrainStorage(database, serviceId));
    }

    protected override Task<IGrainStorage> ReopenAsync(string serviceId)
    {
        CloseAll(); // every pooled connection to the file is closed; the next one reads it from disk
        return CreateStorageAsync(serviceId);
    }

    protected override Task CleanupAsync()
    {
        CloseAll();
        _directory.Dispose();
        return Task.CompletedTask;
    }

    private void CloseAll()
    {
        foreach (var database in _databases) database.Dispose();
        _databases.Clear();
    }
}
