using System.Collections.Concurrent;
using BankGrains.Runtime.Transactions;
using Microsoft.Extensions.DependencyInjection;

namespace BankGrains.Runtime.Tests.Transactions.Grains;

public sealed class WalletState
{
    public int Balance { get; set; }
}

/// <summary>What a wallet activation knows about itself, read without taking part in any transaction.</summary>
public sealed record WalletProbe(int Committed, bool TransactionIdle, int UpdatesRun, string Silo, string ActivationId);

public sealed record SupportedRead(Guid? TransactionId, int Balance);

/// <summary>Thrown on purpose by test grains and bodies: a domain failure the runtime must pass through unchanged.</summary>
public sealed class WalletFailureException(string message) : Exception(message);

/// <summary>A tiny transactional grain: one integer in transactional state "wallet".</summary>
public interface ITxWalletGrain : IGrainWithStringKey
{
    /// <summary>Adds and returns the balance this transaction now sees.</summary>
    [Transaction(TransactionOption.Join)] Task<int> AddAsync(int amount);

    /// <summary>Transactional read (takes the lock like any participant).</summary>
    [Transaction(TransactionOption.Join)] Task<int> ReadAsync();

    /// <summary>Changes the balance, then the PerformUpdate lambda throws (a half-done update).</summary>
    [Transaction(TransactionOption.Join)] Task AddThenFailInsideUpdateAsync(int amount);

    /// <summary>Updates successfully, then the grain method throws after the update.</summary>
    [Transaction(TransactionOption.Join)] Task AddThenThrowAsync(int amount);

    /// <summary>Updates, then holds its turn for <paramref name="delayMs"/>.</summary>
    [Transaction(TransactionOption.Join)] Task AddSlowlyAsync(int amount, int delayMs);

    /// <summary>Updates, then asks to be deactivated once the turn ends (the lock and copy go with the activation).</summary>
    [Transaction(TransactionOption.Join)] Task AddThenDeactivateAsync(int amount);

    /// <summary>Updates, optionally waits for a test gate inside its turn, then calls another wallet in the same transaction.</summary>
    [Transaction(TransactionOption.Join)] Task AddThenCallAsync(int amount, string otherKey, int otherAmount, string? gate);

    /// <summary>Joins a caller's transaction or starts its own; returns the transaction id it ran in.</summary>
    [Transaction(TransactionOption.CreateOrJoin)] Task<Guid> AddCreateOrJoinAsync(int amount);

    /// <summary>Always its own new transaction; returns its id.</summary>
    [Transaction(TransactionOption.Create)] Task<Guid> AddInNewTransactionAsync(int amount);

    [Transaction(TransactionOption.NotAllowed)] Task<int> NotAllowedAsync();

    /// <summary>Returns the id of the transaction it runs in (null outside one) and the balance it sees.</summary>
    [Transaction(TransactionOption.Supported)] Task<SupportedRead> SupportedReadAsync();

    [Transaction(TransactionOption.Suppress)] Task<Guid?> SuppressedAsync();

    /// <summary>No [Transaction]: never carries one, so it reads the committed balance even when called inside a transaction.</summary>
    Task<int> CommittedAsync();

    [AlwaysInterleave] Task<WalletProbe> ProbeAsync();
}

/// <summary>Named gates a grain turn can wait on, opened by the test (one process, so a static registry is enough).</summary>
public static class TestGates
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    public static TaskCompletionSource Get(string name) =>
        Gates.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Counts arrivals at a gate, so a test knows a turn reached it.</summary>
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Arrivals = new();

    public static TaskCompletionSource Arrived(string name) =>
        Arrivals.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

[GrainType("txwallet")]
public sealed class TxWalletGrain([TransactionalState("wallet")] ITransactionalState<WalletState> wallet) : Grain, ITxWalletGrain
{
    private readonly string _activationId = Guid.NewGuid().ToString("N");
    private int _updatesRun;

    public static GrainId IdOf(string key) => new("txwallet", key);

    public Task<int> AddAsync(int amount) => wallet.PerformUpdate(s =>
    {
        _updatesRun++;
        s.Balance += amount;
        return s.Balance;
    });

    public Task<int> ReadAsync() => wallet.PerformRead(s => s.Balance);

    public Task AddThenFailInsideUpdateAsync(int amount) => wallet.PerformUpdate(s =>
    {
        s.Balance += amount;
        throw new WalletFailureException($"update of {GetPrimaryKeyString()} failed half-way");
    });

    public async Task AddThenThrowAsync(int amount)
    {
        await AddAsync(amount);
        throw new WalletFailureException($"{GetPrimaryKeyString()} threw after updating");
    }

    public async Task AddSlowlyAsync(int amount, int delayMs)
    {
        await AddAsync(amount);
        await Task.Delay(delayMs);
    }

    public async Task AddThenDeactivateAsync(int amount)
    {
        await AddAsync(amount);
        DeactivateOnIdle();
    }

    public async Task AddThenCallAsync(int amount, string otherKey, int otherAmount, string? gate)
    {
        await AddAsync(amount);
        if (gate is not null)
        {
            TestGates.Arrived(gate + "/" + GetPrimaryKeyString()).TrySetResult();
            await TestGates.Get(gate).Task;
        }
        await GrainFactory.GetGrain<ITxWalletGrain>(otherKey).AddAsync(otherAmount);
    }

    public async Task<Guid> AddCreateOrJoinAsync(int amount)
    {
        await AddAsync(amount);
        return TransactionContext.Current!.Id;
    }

    public async Task<Guid> AddInNewTransactionAsync(int amount)
    {
        await AddAsync(amount);
        return TransactionContext.Current!.Id;
    }

    public Task<int> NotAllowedAsync() => wallet.PerformRead(s => s.Balance);

    public async Task<SupportedRead> SupportedReadAsync() =>
        new(TransactionContext.Current?.Id, await wallet.PerformRead(s => s.Balance));

    public Task<Guid?> SuppressedAsync() => Task.FromResult(TransactionContext.Current?.Id);

    public Task<int> CommittedAsync() => wallet.PerformRead(s => s.Balance);

    public async Task<WalletProbe> ProbeAsync()
    {
        var committed = await wallet.PerformRead(s => s.Balance);
        var silo = ServiceProvider.GetService<global::BankGrains.Runtime.Cluster.LocalSilo>() is { IsBound: true } self ? self.Address.ToString() : "local";
        return new WalletProbe(committed, Activation.Transactions?.IsIdle ?? true, _updatesRun, silo, _activationId);
    }
}
