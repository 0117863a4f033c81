using System.Collections.Concurrent;
using BankGrains.Runtime.Testing;
using BankGrains.Runtime.Tests.Grains;
using BankGrains.Runtime.Tests.Transactions.Grains;
using BankGrains.Runtime.Transactions;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

/// <summary>
/// A test cluster whose silos commit through a <see cref="ControlledTransactionStore"/> wrapped
/// around the cluster's <see cref="MemoryTransactionStore"/>, so tests can count, hold, break and
/// cut off commits and outcome reads.
/// </summary>
internal sealed class TxCluster : IAsyncDisposable
{
    private TxCluster(TestCluster cluster, ControlledTransactionStore store)
    {
        Cluster = cluster;
        Store = store;
    }

    public TestCluster Cluster { get; }
    public ControlledTransactionStore Store { get; }
    public MemoryTransactionStore Memory => Cluster.TransactionStore;

    public ITransactionClient Client => Transactions(0);
    public IGrainFactory Grains => Cluster.GrainFactory;

    public ITransactionClient Transactions(int silo) => Cluster.Silos[silo].Services.GetRequiredService<ITransactionClient>();

    public ITxWalletGrain Wallet(string key) => Grains.GetGrain<ITxWalletGrain>(key);

    public static async Task<TxCluster> StartAsync(int silos = 1, TimeSpan? timeout = null, int? maxAttempts = null,
        params (string Key, string Value)[] settings)
    {
        ControlledTransactionStore? store = null;
        var cluster = await TestCluster.StartAsync(options =>
        {
            options.InitialSilosCount = silos;
            if (timeout is { } t) options.Configuration["Runtime:Transactions:Timeout"] = t.ToString("c");
            if (maxAttempts is { } m) options.Configuration["Runtime:Transactions:MaxAttempts"] = m.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var (key, value) in settings) options.Configuration[key] = value;
            store = new ControlledTransactionStore(options.TransactionStore);
            options.ConfigureSilo = silo => silo.AddGrains(typeof(TxWalletGrain).Assembly);
            options.ConfigureServices = services =>
            {
                services.AddSingleton<LifecycleLog>();
                services.AddSingleton<FailureSwitch>();
                // Registered after the storage choice, so coordinators and participants resolve this one.
                services.AddSingleton<ITransactionStore>(store!);
            };
        });
        return new TxCluster(cluster, store!);
    }

    /// <summary>
    /// No lock or undecided version is left on the wallets, and a new transaction on all of them
    /// commits on its first attempt (a leftover lock would make it die and retry, or wait).
    /// Returns the balances that transaction saw after adding 1 to each.
    /// </summary>
    public async Task<int[]> AssertNoLockLeftAsync(params string[] keys)
    {
        foreach (var key in keys)
            Assert.True((await Wallet(key).ProbeAsync()).TransactionIdle, $"wallet {key} still holds a transaction lock or an undecided version");
        var attempts = new ConcurrentBag<int>();
        var seen = await Client.RunTransaction(TransactionOption.Create, async () =>
        {
            attempts.Add(TransactionContext.Current!.Attempt);
            var balances = new int[keys.Length];
            for (var i = 0; i < keys.Length; i++) balances[i] = await Wallet(keys[i]).AddAsync(1);
            return balances;
        });
        Assert.Equal([0], attempts);
        for (var i = 0; i < keys.Length; i++) Assert.Equal(seen[i], await Wallet(keys[i]).CommittedAsync());
        return seen;
    }

    /// <summary>Commits <paramref name="amount"/> to each wallet in one transaction.</summary>
    public Task SeedAsync(int amount, params string[] keys) => Client.RunTransaction(TransactionOption.Create, async () =>
    {
        foreach (var key in keys) await Wallet(key).AddAsync(amount);
    });

    public async Task<int> CommittedAsync(string key) => await Wallet(key).CommittedAsync();

    /// <summary>Polls until <paramref name="condition"/> holds; false if it never does within the bound.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                if (await condition()) return true;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(25);
        }
    }

    public ValueTask DisposeAsync()
    {
        Store.OpenAll();
        return Cluster.DisposeAsync();
    }
}

/// <summary>
/// An <see cref="ITransactionStore"/> decorator for fault injection: records every group, can hold
/// groups at a gate, fail them (before or after the inner store applied them), and make the store
/// unreachable for outcome reads.
/// </summary>
internal sealed class ControlledTransactionStore(ITransactionStore inner) : ITransactionStore
{
    private readonly ConcurrentQueue<IReadOnlyList<Guid>> _groups = new();
    private volatile Func<IReadOnlyList<CommitRequest>, Task>? _beforeCommit;

    /// <summary>Every group the coordinators sent, in order (even those that failed).</summary>
    public IReadOnlyList<IReadOnlyList<Guid>> Groups => _groups.ToList();

    public int CommitCalls => _groups.Count;

    /// <summary>Runs before a group reaches the inner store; may wait, or throw (nothing applied).</summary>
    public Func<IReadOnlyList<CommitRequest>, Task>? BeforeCommit
    {
        get => _beforeCommit;
        set => _beforeCommit = value;
    }

    /// <summary>While set, commits are applied by the inner store and then this is thrown (outcome unknown to the caller).</summary>
    public volatile Exception? FailAfterCommit;

    /// <summary>While set, every call throws this (commits apply nothing): the database cannot be reached.</summary>
    public volatile Exception? Unreachable;

    public void OpenAll()
    {
        BeforeCommit = null;
        FailAfterCommit = null;
        Unreachable = null;
    }

    public async Task<IReadOnlyList<CommitResult>> CommitAsync(IReadOnlyList<CommitRequest> group, CancellationToken cancellationToken = default)
    {
        _groups.Enqueue(group.Select(r => r.TransactionId).ToList());
        if (Unreachable is { } down) throw down;
        if (BeforeCommit is { } before) await before(group);
        var results = await inner.CommitAsync(group, cancellationToken);
        if (FailAfterCommit is { } after) throw after;
        return results;
    }

    public Task<TransactionOutcome> ResolveAsync(Guid transactionId, CancellationToken cancellationToken = default) =>
        Unreachable is { } down ? Task.FromException<TransactionOutcome>(down) : inner.ResolveAsync(transactionId, cancellationToken);

    public Task<TransactionOutcome?> ReadOutcomeAsync(Guid transactionId, CancellationToken cancellationToken = default) =>
        Unreachable is { } down ? Task.FromException<TransactionOutcome?>(down) : inner.ReadOutcomeAsync(transactionId, cancellationToken);
}
