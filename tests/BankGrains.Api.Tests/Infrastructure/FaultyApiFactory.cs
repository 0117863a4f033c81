using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Persistence;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace BankGrains.Api.Tests.Infrastructure;

/// <summary>
/// The real API, except that a few well-known account ids answer every call with a chosen failure: an
/// unexpected exception with secrets in its text, a grain call timeout, a version conflict, a stopped silo.
/// </summary>
public sealed class FaultyApiFactory : ApiFactory
{
    public const string Secret = "Host=db.internal;Password=hunter2";

    public static readonly Guid Unexpected = Guid.Parse("00000000-0000-0000-0000-00000000000e");
    public static readonly Guid TimedOut = Guid.Parse("00000000-0000-0000-0000-0000000000a1");
    public static readonly Guid Conflicting = Guid.Parse("00000000-0000-0000-0000-0000000000c0");
    public static readonly Guid SiloGone = Guid.Parse("00000000-0000-0000-0000-0000000000d0");
    public static readonly Guid OutcomeUnknown = Guid.Parse("00000000-0000-0000-0000-0000000000f0");

    private static readonly Dictionary<Guid, Func<Exception>> Faults = new()
    {
        [Unexpected] = () => new InvalidOperationException($"Connection failed: {Secret} at /srv/bank/secret.cs:42"),
        [TimedOut] = () => new GrainCallTimeoutException("DepositAsync on grain account/… did not respond within 30 s (message #7)"),
        [Conflicting] = () => new InconsistentStateException("Write of state 'account' refused: expected version 3 but storage holds version 4.", "4", "3"),
        [SiloGone] = () => new SiloUnavailableException("The silo was stopped."),
        [OutcomeUnknown] = () => new BankGrains.Runtime.Cluster.CallOutcomeUnknownException("the connection to 10.0.0.7:11111@5 broke after the call was sent"),
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            var real = services.Single(d => d.ServiceType == typeof(IGrainFactory));
            services.Remove(real);
            services.AddSingleton<IGrainFactory>(sp =>
                new FaultInjectingGrainFactory((IGrainFactory)ActivatorUtilities.CreateInstance(sp, real.ImplementationType!)));
        });
    }

    private sealed class FaultInjectingGrainFactory(IGrainFactory inner) : IGrainFactory
    {
        public T GetGrain<T>(Guid key) where T : IGrainWithGuidKey =>
            typeof(T) == typeof(IAccountGrain) && Faults.TryGetValue(key, out var fault)
                ? (T)(object)new FailingAccountGrain(fault)
                : inner.GetGrain<T>(key);

        public T GetGrain<T>(string key) where T : IGrainWithStringKey => inner.GetGrain<T>(key);

        public T GetGrain<T>(long key) where T : IGrainWithIntegerKey => inner.GetGrain<T>(key);

        public T GetGrain<T>(GrainId grainId) where T : IGrain => inner.GetGrain<T>(grainId);
    }

    private sealed class FailingAccountGrain(Func<Exception> fault) : IAccountGrain
    {
        public Task<AccountSnapshot> OpenAsync(Guid customerId, Currency currency, AccountProduct product, decimal overdraftLimit) => Fail();
        public Task<AccountSnapshot> GetAsync() => Fail();
        public Task<AccountSnapshot> DepositAsync(Money amount) => Fail();
        public Task<AccountSnapshot> WithdrawAsync(Money amount) => Fail();
        public Task<AccountSnapshot> FreezeAsync(string reason) => Fail();
        public Task<AccountSnapshot> UnfreezeAsync() => Fail();

        private Task<AccountSnapshot> Fail() => Task.FromException<AccountSnapshot>(fault());
    }
}
