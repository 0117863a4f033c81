using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Hosting;
using BankGrains.Runtime.Membership;
using BankGrains.Runtime.Storage;
using BankGrains.Runtime.Testing;
using BankGrains.Runtime.Transactions;
using BankGrains.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BankGrains.Grains.Tests.Transfers;

/// <summary>An account opened for a transfer test: its overdraft and what was deposited into it.</summary>
internal sealed record OpenedAccount(Guid Id, Currency Currency, decimal Overdraft, decimal Funding, Guid FundingMovementId)
{
    public string LedgerId => LedgerAccounts.ForAccount(Id);
}

/// <summary>
/// A TestCluster with the bank's grains on one of the three storage choices, plus the stores that
/// the ledger checks read. Every silo of a cluster shares one store, so any silo's view is the truth.
/// </summary>
internal sealed class TransferBank : IAsyncDisposable
{
    private readonly IDisposable? _owned;

    private TransferBank(TestCluster cluster, IDisposable? owned)
    {
        Cluster = cluster;
        _owned = owned;
    }

    public TestCluster Cluster { get; }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        _owned?.Dispose();
    }

    private IServiceProvider Services => Cluster.Silos[0].Services;
    public ILedgerStore Ledger => Services.GetRequiredService<ILedgerStore>();
    public ITransactionStore Transactions => Services.GetRequiredService<ITransactionStore>();
    public IIdempotencyStore Idempotency => Services.GetRequiredService<IIdempotencyStore>();
    public ITransactionClient TransactionClient => Services.GetRequiredService<ITransactionClient>();

    /// <summary>The teller on silo <paramref name="silo"/> (modulo the silo count): it coordinates the orders it gets.</summary>
    public ITellerGrain Teller(int silo) => Cluster.Silos[silo % Cluster.Silos.Count].GrainFactory.GetGrain<ITellerGrain>(0);

    public IAccountGrain Account(Guid id, int silo = 0) => Cluster.Silos[silo % Cluster.Silos.Count].GrainFactory.GetGrain<IAccountGrain>(id);

    public ICashAccountGrain Cash(Currency currency) => Cluster.GrainFactory.GetGrain<ICashAccountGrain>(currency.Code);

    /// <summary>In-memory grain storage and MemoryTransactionStore shared by every silo.</summary>
    public static async Task<TransferBank> StartInMemoryAsync(int silos, Action<TestClusterOptions>? configure = null) =>
        new(await TestCluster.StartAsync(options =>
        {
            options.InitialSilosCount = silos;
            options.ConfigureSilo = silo => silo.AddGrains(typeof(AccountGrain).Assembly);
            configure?.Invoke(options);
        }), null);

    /// <summary>The embedded default: one silo on a SQLite file in a temp folder.</summary>
    public static async Task<TransferBank> StartSqliteAsync()
    {
        var folder = new TempDirectory("bankgrains-transfers-");
        try
        {
            var path = folder.Combine("bankgrains.db");
            return new(await TestCluster.StartAsync(options => options.ConfigureSilo = silo =>
                silo.AddGrains(typeof(AccountGrain).Assembly).UseSqliteStorage(path)), folder);
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Silos on one PostgreSQL database. A cluster keeps its membership there too: the store fences
    /// every state write with the writer's membership row, so an in-memory table would refuse them all.
    /// </summary>
    public static async Task<TransferBank> StartPostgresAsync(int silos, string connectionString)
    {
        var membership = silos > 1 ? NpgsqlDataSource.Create(connectionString) : null;
        try
        {
            if (membership is not null) await SchemaMigrator.ApplyAsync(membership, CancellationToken.None);
            var cluster = await TestCluster.StartAsync(options =>
            {
                options.InitialSilosCount = silos;
                if (membership is not null) options.MembershipTable = new PostgresMembershipTable(membership, new ClusterOptions().Id);
                options.ConfigureSilo = silo => silo.AddGrains(typeof(AccountGrain).Assembly).UsePostgresStorage(connectionString);
            });
            return new(cluster, membership);
        }
        catch
        {
            membership?.Dispose();
            throw;
        }
    }

    /// <summary>A fresh database on the test process's shared throwaway PostgreSQL server.</summary>
    public static async Task<string> CreatePostgresDatabaseAsync(string name)
    {
        var server = await PostgresServer.SharedAsync();
        return await server.CreateDatabaseAsync(name);
    }

    /// <summary>Opens one account per (overdraft, funding) for a fully verified customer and funds it with one deposit.</summary>
    public async Task<IReadOnlyList<OpenedAccount>> OpenFundedAccountsAsync(params (decimal Overdraft, decimal Funding)[] specs) =>
        await OpenFundedAccountsAsync(Currency.USD, specs);

    public async Task<IReadOnlyList<OpenedAccount>> OpenFundedAccountsAsync(Currency currency, params (decimal Overdraft, decimal Funding)[] specs)
    {
        var opened = new List<OpenedAccount>();
        foreach (var (overdraft, funding) in specs)
        {
            var customer = Cluster.GrainFactory.GetGrain<ICustomerGrain>(Guid.NewGuid());
            await customer.CreateAsync("Grace Hopper", "grace@example.org");
            await customer.SetKycLevelAsync(KycLevel.Full);
            var id = Guid.NewGuid();
            await customer.OpenAccountAsync(id, currency, AccountProduct.Checking, overdraft);
            var movement = Guid.NewGuid();
            if (funding > 0) await Teller(0).DepositAsync(new CashOrder(movement, id, new Money(funding, currency)));
            opened.Add(new OpenedAccount(id, currency, overdraft, funding, movement));
        }
        return opened;
    }
}
