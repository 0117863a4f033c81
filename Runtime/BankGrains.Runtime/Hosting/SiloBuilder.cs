using System.Reflection;
using BankGrains.Runtime.Core;
using BankGrains.Runtime.Messaging;
using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Reminders;
using BankGrains.Runtime.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BankGrains.Runtime.Hosting;

/// <summary>Configures the silo hosted in this process: grain assemblies, storage, filters.</summary>
public sealed class SiloBuilder
{
    internal SiloBuilder(IServiceCollection services) => Services = services;

    public IServiceCollection Services { get; }

    internal List<Assembly> GrainAssemblies { get; } = [typeof(SiloBuilder).Assembly];

    /// <summary>Registers every grain class in <paramref name="assembly"/>.</summary>
    public SiloBuilder AddGrains(Assembly assembly)
    {
        GrainAssemblies.Add(assembly);
        return this;
    }

    public SiloBuilder AddIncomingGrainCallFilter<TFilter>() where TFilter : class, IIncomingGrainCallFilter
    {
        Services.AddSingleton<IIncomingGrainCallFilter, TFilter>();
        return this;
    }

    public SiloBuilder AddOutgoingGrainCallFilter<TFilter>() where TFilter : class, IOutgoingGrainCallFilter
    {
        Services.AddSingleton<IOutgoingGrainCallFilter, TFilter>();
        return this;
    }

    /// <summary>Registers a named grain storage, for [PersistentState(name, storageName)].</summary>
    public SiloBuilder AddGrainStorage(string name, Func<IServiceProvider, IGrainStorage> factory)
    {
        Services.AddKeyedSingleton(name, (sp, _) => factory(sp));
        return this;
    }

    /// <summary>Sets the default grain storage and the reminder table, replacing earlier choices and their initializers.</summary>
    public SiloBuilder UseStorage(Func<IServiceProvider, IGrainStorage> grainStorage, Func<IServiceProvider, IReminderTable> reminderTable)
    {
        Services.RemoveAll<IGrainStorage>();
        Services.RemoveAll<IReminderTable>();
        Services.RemoveAll<IStorageInitializer>();
        Services.AddSingleton(grainStorage);
        Services.AddSingleton(reminderTable);
        return this;
    }

    /// <summary>Volatile storage for tests: pass shared instances so state outlives a silo restart.</summary>
    /// <param name="transactionStore">Transactions, ledger and idempotency keys; by default a new store over <paramref name="grainStorage"/>.</param>
    public SiloBuilder UseInMemoryStorage(MemoryGrainStorage? grainStorage = null, MemoryReminderTable? reminderTable = null,
        Transactions.MemoryTransactionStore? transactionStore = null)
    {
        var storage = grainStorage ?? transactionStore?.GrainStorage ?? new MemoryGrainStorage();
        var reminders = reminderTable ?? new MemoryReminderTable();
        var transactions = transactionStore ?? new Transactions.MemoryTransactionStore(storage);
        if (!ReferenceEquals(transactions.GrainStorage, storage))
            throw new ArgumentException("The transaction store must write states to the same grain storage the silo reads them from.", nameof(transactionStore));
        UseStorage(_ => storage, _ => reminders);
        StorageConfiguration.UseTransactionStore(Services, _ => transactions);
        return this;
    }

    internal void AddRuntimeServices()
    {
        var services = Services;
        services.AddOptions<ClusterOptions>().BindConfiguration(ClusterOptions.Section);
        services.AddOptions<MessagingOptions>().BindConfiguration(MessagingOptions.Section);
        services.AddOptions<GrainCollectionOptions>().BindConfiguration(GrainCollectionOptions.Section);
        services.AddOptions<ReminderOptions>().BindConfiguration(ReminderOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IGrainWriteFence, OpenWriteFence>();
        var assemblies = GrainAssemblies;
        services.AddSingleton(_ => new GrainClassRegistry(assemblies));
        services.AddSingleton<GrainRuntime>();
        services.AddSingleton(sp => sp.GetRequiredService<GrainRuntime>().Catalog);
        services.TryAddSingleton<IMessageRouter, LocalMessageRouter>();
        services.TryAddSingleton<Cluster.IGrainOwnership, Cluster.SingleSiloOwnership>();
        services.TryAddSingleton<Cluster.IClusterManagement, Cluster.SingleSiloManagement>();
        services.AddSingleton<IGrainCallInvoker, GrainCallInvoker>();
        services.AddSingleton<IGrainFactory, GrainFactory>();
        services.AddSingleton<ReminderService>();
        Transactions.TransactionServices.AddBankGrainsTransactions(services);
        services.AddSingleton<SiloLifecycle>();
        services.AddHostedService(sp => sp.GetRequiredService<SiloLifecycle>());
        services.AddHostedService<ActivationCollector>();
    }
}

public static class SiloServiceCollectionExtensions
{
    /// <summary>Hosts a silo in this process (the embedded default, and each Silo process of a cluster).</summary>
    public static IServiceCollection AddBankGrainsSilo(this IServiceCollection services, Action<SiloBuilder> configure)
    {
        var builder = new SiloBuilder(services);
        configure(builder);
        if (!services.Any(d => d.ServiceType == typeof(IGrainStorage))) builder.UseInMemoryStorage();
        builder.AddRuntimeServices();
        return services;
    }
}
