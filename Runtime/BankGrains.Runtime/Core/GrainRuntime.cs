using BankGrains.Runtime.Hosting;
using BankGrains.Runtime.Reminders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BankGrains.Runtime.Core;

/// <summary>The services an activation needs from its silo, gathered in one place.</summary>
public sealed class GrainRuntime
{
    public GrainRuntime(
        GrainClassRegistry classes,
        IServiceProvider services,
        IEnumerable<IIncomingGrainCallFilter> incomingFilters,
        IOptions<GrainCollectionOptions> collection,
        TimeProvider time,
        ILogger<GrainRuntime> logger)
    {
        Classes = classes;
        Services = services;
        IncomingFilters = incomingFilters.ToArray();
        Collection = collection.Value;
        Time = time;
        Logger = logger;
        Catalog = new Catalog(this);
    }

    public GrainClassRegistry Classes { get; }
    public IServiceProvider Services { get; }
    public Catalog Catalog { get; }
    public TimeProvider Time { get; }
    public GrainCollectionOptions Collection { get; }
    internal IIncomingGrainCallFilter[] IncomingFilters { get; }
    internal ILogger Logger { get; }

    // Resolved on use: the factory and reminders depend on the router, which depends on the catalog here.
    public IGrainFactory GrainFactory => Services.GetRequiredService<IGrainFactory>();
    internal ReminderService Reminders => Services.GetRequiredService<ReminderService>();
    internal Transactions.TransactionAgent Transactions => Services.GetRequiredService<Transactions.TransactionAgent>();
}
