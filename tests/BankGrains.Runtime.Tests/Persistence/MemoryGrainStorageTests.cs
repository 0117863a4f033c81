using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Storage;
using Xunit;

namespace BankGrains.Runtime.Tests.Persistence;

public sealed class MemoryGrainStorageTests : GrainStorageConformanceTests
{
    // One instance per service id plays the role of "the database" for that service.
    private readonly Dictionary<string, MemoryGrainStorage> _stores = [];

    protected override Task<IGrainStorage> CreateStorageAsync(string serviceId)
    {
        if (!_stores.TryGetValue(serviceId, out var store)) _stores[serviceId] = store = new MemoryGrainStorage();
        return Task.FromResult<IGrainStorage>(store);
    }
}
