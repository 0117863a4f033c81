using System.Collections.Concurrent;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Transactions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace BankGrains.Api.Tests.Infrastructure;

/// <summary>
/// The real API, except that a few well-known account ids answer every call with a chosen failure: an
/// unexpected exception with secrets in its text, a grain call timeout, a version conflict, a stopped silo,
/// an aborted or in-doubt transaction. Money movements go through the teller, so the teller is wrapped too:
/// a movement touching a faulty account fails with that account's fault (named after the movement's id).
/// Tests can also make the next movement of a real account fail once (<see cref="FailNextMovementOf"/>).
/// </summary>
public sealed class FaultyApiFactory : ApiFactory
{
    public const string Secret = "Host=db.internal;Password=hunter2";

    public static readonly Guid Unexpected = Guid.Parse("00000000-0000-0000-0000-00000000000e");
    public static readonly Guid TimedOut = Guid.Parse("00000000-0000-0000-0000-0000000000a1");
    public static readonly Guid Conflicting = Guid.Parse("00000000-0000-0000-0000-0000000000c0");
    public static readonly Guid SiloGone = Guid.Parse("00000000-0000-0000-0000-0000000000d0");
    public static readonly Guid OutcomeUnknown = Guid.Parse("00000000-0000-0000-0000-0000000000f0");
    public static readonly Guid Aborted = Guid.Parse("00000000-0000-0000-0000-0000000000ab");
    public static readonly Guid InDoubt = Guid.Parse("00000000-0000-0000-0000-0000000000db");

    // The argument is the id of the movement (transaction) the failing call belonged to, or the account's own id.
    private static readonly Dictionary<Guid, Func<Guid, Exception>> Faults = new()
    {
        [Unexpected] = _ => new InvalidOperationException($"Connection failed: {Secret} at /srv/bank/secret.cs:42"),
        [TimedOut] = _ => new GrainCallTimeoutException("DepositAsync on grain account/… did not respond within 30 s (message #7)"),
        [Conflicting] = _ => new InconsistentStateException("Write of state 'account' refused: expected version 3 but storage holds version 4.", "4", "3"),
        [SiloGone] = _ => new SiloUnavailableException("The silo was stopped."),
        [OutcomeUnknown] = _ => new BankGrains.Runtime.Cluster.CallOutcomeUnknownException("the connection to 10.0.0.7:11111@5 broke after the call was sent"),
        [Aborted] = id => new TransactionAbortedException(id, TransactionAbortReason.LockConflict, $"Transaction {id} aborted (LockConflict): wait-die at grain account/… (silo 10.0.0.7)."),
        [InDoubt] = id => new TransactionInDoubtException(id, $"Transaction {id} is in doubt: the database commit failed (Host=db.internal)."),
    };

    private readonly ConcurrentDictionary<Guid, OneShot> _once = new();

    /// <summary>
    /// The next movement touching <paramref name="accountId"/> fails with <paramref name="fault"/> (given the movement id):
    /// instead of running, or — with <paramref name="afterRunning"/> — after it really ran and committed.
    /// </summary>
    public void FailNextMovementOf(Guid accountId, Func<Guid, Exception> fault, bool afterRunning = false) =>
        _once[accountId] = new OneShot(fault, afterRunning);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            var real = services.Single(d => d.ServiceType == typeof(IGrainFactory));
            services.Remove(real);
            services.AddSingleton<IGrainFactory>(sp =>
                new FaultInjectingGrainFactory((IGrainFactory)ActivatorUtilities.CreateInstance(sp, real.ImplementationType!), this));
        });
    }

    private sealed record OneShot(Func<Guid, Exception> Fault, bool AfterRunning);

    private sealed class FaultInjectingGrainFactory(IGrainFactory inner, FaultyApiFactory owner) : IGrainFactory
    {
        public T GetGrain<T>(Guid key) where T : IGrainWithGuidKey =>
            typeof(T) == typeof(IAccountGrain) && Faults.TryGetValue(key, out var fault)
                ? (T)(object)new FailingAccountGrain(() => fault(key))
                : inner.GetGrain<T>(key);

        public T GetGrain<T>(string key) where T : IGrainWithStringKey => inner.GetGrain<T>(key);

        public T GetGrain<T>(long key) where T : IGrainWithIntegerKey =>
            typeof(T) == typeof(ITellerGrain)
                ? (T)(object)new FaultInjectingTeller(inner.GetGrain<ITellerGrain>(key), owner)
                : inner.GetGrain<T>(key);

        public T GetGrain<T>(GrainId grainId) where T : IGrain => inner.GetGrain<T>(grainId);
    }

    private sealed class FaultInjectingTeller(ITellerGrain inner, FaultyApiFactory owner) : ITellerGrain
    {
        public Task<TransferReceipt> TransferAsync(TransferOrder order) =>
            RunAsync(order.TransferId, [order.FromAccountId, order.ToAccountId], () => inner.TransferAsync(order));

        public Task<AccountSnapshot> DepositAsync(CashOrder order) =>
            RunAsync(order.MovementId, [order.AccountId], () => inner.DepositAsync(order));

        public Task<AccountSnapshot> WithdrawAsync(CashOrder order) =>
            RunAsync(order.MovementId, [order.AccountId], () => inner.WithdrawAsync(order));

        private async Task<T> RunAsync<T>(Guid movementId, Guid[] accounts, Func<Task<T>> call)
        {
            foreach (var account in accounts)
            {
                if (Faults.TryGetValue(account, out var fault)) throw fault(movementId);
                if (!owner._once.TryRemove(account, out var once)) continue;
                if (once.AfterRunning) await call();
                throw once.Fault(movementId);
            }
            return await call();
        }
    }

    private sealed class FailingAccountGrain(Func<Exception> fault) : IAccountGrain
    {
        public Task<AccountSnapshot> OpenAsync(Guid customerId, Currency currency, AccountProduct product, decimal overdraftLimit) => Fail();
        public Task<AccountSnapshot> GetAsync() => Fail();
        public Task<AccountSnapshot> DepositAsync(Money amount) => Fail();
        public Task<AccountSnapshot> WithdrawAsync(Money amount) => Fail();
        public Task<AccountSnapshot> CreditAsync(Money amount) => Fail();
        public Task<AccountSnapshot> DebitAsync(Money amount) => Fail();
        public Task<AccountSnapshot> FreezeAsync(string reason) => Fail();
        public Task<AccountSnapshot> UnfreezeAsync() => Fail();

        private Task<AccountSnapshot> Fail() => Task.FromException<AccountSnapshot>(fault());
    }
}
