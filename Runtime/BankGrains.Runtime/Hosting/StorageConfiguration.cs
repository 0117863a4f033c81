using BankGrains.Runtime.Storage;
using BankGrains.Runtime.Transactions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BankGrains.Runtime.Hosting;

/// <summary>Where durable state lives when no PostgreSQL is configured.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Folder of the embedded SQLite database (bankgrains.db); relative paths are from the working directory.</summary>
    public string DataDirectory { get; set; } = "./data";

    public const string SqliteFileName = "bankgrains.db";
}

/// <summary>The durable storage choices: SQLite (one machine, the default) and PostgreSQL (the cluster).</summary>
public static class StorageConfiguration
{
    /// <summary>
    /// ConnectionStrings:Postgres set → PostgreSQL; otherwise SQLite in Storage:DataDirectory.
    /// Either way the schema comes from the scripts in sql/, applied before the silo starts.
    /// </summary>
    public static SiloBuilder UseStorageFromConfiguration(this SiloBuilder silo, IConfiguration configuration)
    {
        var postgres = configuration.GetConnectionString("Postgres");
        if (!string.IsNullOrWhiteSpace(postgres)) return silo.UsePostgresStorage(postgres);
        var options = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        return silo.UseSqliteStorage(Path.Combine(options.DataDirectory, StorageOptions.SqliteFileName));
    }

    /// <summary>The embedded default: one SQLite file in WAL mode with synchronous=FULL.</summary>
    public static SiloBuilder UseSqliteStorage(this SiloBuilder silo, string databasePath)
    {
        silo.UseStorage(
            sp => new SqliteGrainStorage(sp.GetRequiredService<SqliteDatabase>(), ServiceId(sp)),
            sp => new SqliteReminderTable(sp.GetRequiredService<SqliteDatabase>(), ServiceId(sp)));
        UseTransactionStore(silo.Services, sp => new SqliteTransactionStore(sp.GetRequiredService<SqliteDatabase>(), ServiceId(sp)));
        silo.Services.AddSingleton(_ => new SqliteDatabase(databasePath));
        silo.Services.AddSingleton<IStorageInitializer>(sp => new Initializer(ct => sp.GetRequiredService<SqliteDatabase>().InitializeAsync(ct)));
        return silo;
    }

    /// <summary>The cluster's store: PostgreSQL through one pooled Npgsql data source.</summary>
    public static SiloBuilder UsePostgresStorage(this SiloBuilder silo, string connectionString)
    {
        silo.UseStorage(
            sp => new PostgresGrainStorage(sp.GetRequiredService<NpgsqlDataSource>(), ServiceId(sp), WriterIdentity(sp)),
            sp => new PostgresReminderTable(sp.GetRequiredService<NpgsqlDataSource>(), ServiceId(sp)));
        UseTransactionStore(silo.Services, sp => new PostgresTransactionStore(sp.GetRequiredService<NpgsqlDataSource>(), ServiceId(sp)));
        silo.Services.AddSingleton(_ => CreateDataSource(connectionString));
        silo.Services.AddSingleton<IStorageInitializer>(sp => new Initializer(ct => SchemaMigrator.ApplyAsync(sp.GetRequiredService<NpgsqlDataSource>(), ct)));
        return silo;
    }

    /// <summary>
    /// Registers ONE store as <see cref="ITransactionStore"/>, <see cref="ILedgerStore"/> and
    /// <see cref="IIdempotencyStore"/> (singletons), replacing any earlier choice of the three.
    /// </summary>
    internal static void UseTransactionStore<TStore>(IServiceCollection services, Func<IServiceProvider, TStore> factory)
        where TStore : class, ITransactionStore, ILedgerStore, IIdempotencyStore
    {
        services.RemoveAll<TransactionStoreHolder>();
        services.RemoveAll<ITransactionStore>();
        services.RemoveAll<ILedgerStore>();
        services.RemoveAll<IIdempotencyStore>();
        services.AddSingleton(sp => new TransactionStoreHolder(factory(sp)));
        services.AddSingleton<ITransactionStore>(sp => (ITransactionStore)sp.GetRequiredService<TransactionStoreHolder>().Store);
        services.AddSingleton<ILedgerStore>(sp => (ILedgerStore)sp.GetRequiredService<TransactionStoreHolder>().Store);
        services.AddSingleton<IIdempotencyStore>(sp => (IIdempotencyStore)sp.GetRequiredService<TransactionStoreHolder>().Store);
    }

    // The one instance behind the three interfaces; a private type, so replacing it never touches anyone else's registration.
    private sealed class TransactionStoreHolder(object store)
    {
        public object Store { get; } = store;
    }

    /// <summary>
    /// The runtime's data source. Its statements are few and fixed, so Npgsql prepares them once per
    /// connection (automatic preparation) instead of PostgreSQL parsing and planning every one of them
    /// again. The runtime leaves no session state behind (its settings and advisory locks are all
    /// transaction-scoped), so a connection going back to the pool is not reset. A connection string
    /// that sets either itself keeps its own.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }
        if (!connectionString.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase)) builder.NoResetOnClose = true;
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }

    // A cluster silo fences its writes with its membership row; a single silo has no row to fence with.
    private static Func<Membership.SiloAddress?>? WriterIdentity(IServiceProvider services) =>
        services.GetService<Cluster.LocalSilo>() is { } self ? () => self.IsBound ? self.Address : null : null;

    private static string ServiceId(IServiceProvider services) => services.GetRequiredService<IOptions<ClusterOptions>>().Value.Id;

    private sealed class Initializer(Func<CancellationToken, Task> initialize) : IStorageInitializer
    {
        public Task InitializeAsync(CancellationToken cancellationToken) => initialize(cancellationToken);
    }
}
