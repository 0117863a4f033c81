using BankGrains.Runtime.Reminders;
using BankGrains.Runtime.Storage;
using BankGrains.TestSupport;

namespace BankGrains.Runtime.Tests.Persistence;

public sealed class SqliteReminderTableTests : DurableReminderTableConformanceTests
{
    private readonly TempDirectory _directory = new("bankgrains-sqlite-");
    private readonly List<SqliteDatabase> _databases = [];

    private string DatabasePath => _directory.Combine("data", "reminders.db");

    protected override Task<IReminderTable> CreateTableAsync(string serviceId)
    {
        var database = new SqliteDatabase(DatabasePath);
        _databases.Add(database);
        return Task.FromResult<IReminderTable>(new SqliteReminderTable(database, serviceId));
    }

    protected override Task<IReminderTable> ReopenAsync(string serviceId)
    {
        CloseAll();
        return CreateTableAsync(serviceId);
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
