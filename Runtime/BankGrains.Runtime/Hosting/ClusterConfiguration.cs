using System.Reflection;
using BankGrains.Runtime.Cluster;
using BankGrains.Runtime.Core;
using BankGrains.Runtime.Membership;
using BankGrains.Runtime.Messaging;
using BankGrains.Runtime.Networking;
using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BankGrains.Runtime.Hosting;

/// <summary>Turns a silo into a cluster member, and a process into a cluster client.</summary>
public static class ClusterConfiguration
{
    /// <summary>
    /// Joins the cluster whose membership lives in <paramref name="membershipTable"/>: silos find
    /// each other there, route calls to each grain's owner, and watch each other for failures.
    /// </summary>
    public static SiloBuilder UseCluster(this SiloBuilder silo, Func<IServiceProvider, IMembershipTable> membershipTable)
    {
        var services = silo.Services;
        AddMembershipFollowing(services, membershipTable);
        services.AddSingleton<LocalSilo>();
        services.AddSingleton<MembershipService>();
        services.RemoveAll<IGrainWriteFence>();
        services.AddSingleton<IGrainWriteFence>(sp => sp.GetRequiredService<MembershipService>());
        services.AddSingleton<HandoffCoordinator>();
        services.AddSingleton(sp => new ClusterMessageRouter(
            sp.GetRequiredService<IClusterViewSource>(), sp.GetRequiredService<ConnectionPool>(),
            sp.GetRequiredService<ILogger<ClusterMessageRouter>>(), sp.GetRequiredService<LocalSilo>(),
            sp.GetRequiredService<Catalog>(), sp.GetRequiredService<HandoffCoordinator>()));
        services.RemoveAll<IMessageRouter>();
        services.AddSingleton<IMessageRouter>(sp => sp.GetRequiredService<ClusterMessageRouter>());
        services.RemoveAll<IGrainOwnership>();
        services.AddSingleton<IGrainOwnership, ViewOwnership>();
        services.AddSingleton<SiloRequestHandler>();
        services.AddSingleton<ClusterParticipation>();
        services.RemoveAll<IClusterManagement>();
        services.AddSingleton<IClusterManagement, ClusterManagement>();
        return silo;
    }

    /// <summary>
    /// The whole choice from configuration, for the Api and Silo hosts: Cluster:Role=client → a client
    /// of the cluster in ConnectionStrings:Postgres; otherwise a silo in this process, joined to that
    /// cluster when ConnectionStrings:Postgres is set, else the single embedded silo on SQLite.
    /// </summary>
    public static IServiceCollection AddBankGrains(this IServiceCollection services, IConfiguration configuration, params Assembly[] grainAssemblies)
    {
        var cluster = configuration.GetSection(ClusterOptions.Section).Get<ClusterOptions>() ?? new ClusterOptions();
        if (cluster.IsClient)
        {
            var postgres = configuration.GetConnectionString("Postgres");
            if (string.IsNullOrWhiteSpace(postgres))
                throw new InvalidOperationException("Cluster:Role=client needs ConnectionStrings:Postgres: the cluster's membership is read from there.");
            // One pooled data source; the client also applies the schema, so it may start before any silo.
            services.AddSingleton(_ => StorageConfiguration.CreateDataSource(postgres));
            return services.AddBankGrainsClient(grainAssemblies, PostgresMembership);
        }
        return services.AddBankGrainsSilo(silo =>
        {
            foreach (var assembly in grainAssemblies) silo.AddGrains(assembly);
            silo.UseStorageFromConfiguration(configuration).UseClusterFromConfiguration(configuration);
        });
    }

    /// <summary>ConnectionStrings:Postgres set → the cluster's membership is in that database; otherwise a single silo.</summary>
    public static SiloBuilder UseClusterFromConfiguration(this SiloBuilder silo, IConfiguration configuration)
    {
        var postgres = configuration.GetConnectionString("Postgres");
        return string.IsNullOrWhiteSpace(postgres) ? silo : silo.UseCluster(PostgresMembership);
    }

    /// <summary>
    /// A client of the cluster (the Api with Cluster:Role=client): no grains run here; it follows the
    /// membership table and sends each call straight to the grain's owner.
    /// </summary>
    public static IServiceCollection AddBankGrainsClient(this IServiceCollection services, IEnumerable<Assembly> grainAssemblies,
        Func<IServiceProvider, IMembershipTable> membershipTable)
    {
        services.AddOptions<ClusterOptions>().BindConfiguration(ClusterOptions.Section);
        services.AddOptions<MessagingOptions>().BindConfiguration(MessagingOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        var assemblies = grainAssemblies.Append(typeof(ClusterConfiguration).Assembly).ToList();
        services.AddSingleton(_ => new GrainClassRegistry(assemblies));
        AddMembershipFollowing(services, membershipTable);
        services.AddSingleton(sp => new ClusterMessageRouter(sp.GetRequiredService<IClusterViewSource>(),
            sp.GetRequiredService<ConnectionPool>(), sp.GetRequiredService<ILogger<ClusterMessageRouter>>()));
        services.AddSingleton<IMessageRouter>(sp => sp.GetRequiredService<ClusterMessageRouter>());
        services.AddSingleton<IGrainCallInvoker, GrainCallInvoker>();
        services.AddSingleton<IGrainFactory, GrainFactory>();
        services.AddSingleton<IClusterManagement, ClusterManagement>();
        // The client coordinates transactions too (ITransactionClient), so it commits and resolves them itself.
        StorageConfiguration.UseTransactionStore(services, sp => new Transactions.PostgresTransactionStore(
            RegisteredOrConfiguredDataSource(sp, "a cluster client's transactions"), sp.GetRequiredService<IOptions<ClusterOptions>>().Value.Id));
        Transactions.TransactionServices.AddBankGrainsTransactions(services);
        services.AddHostedService<ClusterClientLifecycle>();
        return services;
    }

    /// <summary>The membership table of ConnectionStrings:Postgres for the configured cluster id.</summary>
    public static IMembershipTable PostgresMembership(IServiceProvider services)
    {
        var dataSource = RegisteredOrConfiguredDataSource(services, "a cluster");
        return new PostgresMembershipTable(dataSource, services.GetRequiredService<IOptions<ClusterOptions>>().Value.Id);
    }

    // The registered data source (AddBankGrains adds one), else one for ConnectionStrings:Postgres.
    private static NpgsqlDataSource RegisteredOrConfiguredDataSource(IServiceProvider services, string neededFor) =>
        services.GetService<NpgsqlDataSource>()
        ?? StorageConfiguration.CreateDataSource(services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")
                                   ?? throw new InvalidOperationException($"ConnectionStrings:Postgres is required for {neededFor}."));

    private static void AddMembershipFollowing(IServiceCollection services, Func<IServiceProvider, IMembershipTable> membershipTable)
    {
        services.AddOptions<MembershipOptions>().BindConfiguration(MembershipOptions.Section);
        services.AddSingleton(membershipTable);
        services.AddSingleton<MembershipViewReader>();
        services.AddSingleton<IClusterViewSource>(sp => sp.GetRequiredService<MembershipViewReader>());
        services.TryAddSingleton(sp => new ConnectionPool(new TransportOptions(), sp.GetRequiredService<ILogger<ConnectionPool>>()));
    }
}

/// <summary>A client's start: the schema exists, the first view is read, and the view is followed from then on.</summary>
internal sealed class ClusterClientLifecycle(IServiceProvider services, MembershipViewReader reader, ConnectionPool connections) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<NpgsqlDataSource>() is { } dataSource) await SchemaMigrator.ApplyAsync(dataSource, cancellationToken);
        await services.GetRequiredService<IMembershipTable>().InitializeAsync(cancellationToken);
        await reader.RefreshAsync();
        reader.Start();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await reader.DisposeAsync();
        await connections.DisposeAsync();
    }
}
