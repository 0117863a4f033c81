using BankGrains.Runtime.Reminders;
using BankGrains.Runtime.Storage;
using Xunit;

namespace BankGrains.Runtime.Tests.Persistence;

public sealed class MemoryReminderTableTests : ReminderTableConformanceTests
{
    // One instance per service id plays the role of "the database" for that service.
    private readonly Dictionary<string, MemoryReminderTable> _tables = [];

    protected override Task<IReminderTable> CreateTableAsync(string serviceId)
    {
        if (!_tables.TryGetValue(serviceId, out var table)) _tables[serviceId] = table = new MemoryReminderTable();
        return Task.FromResult<IReminderTable>(table);
    }
}
