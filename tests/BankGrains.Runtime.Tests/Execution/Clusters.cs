using BankGrains.Runtime.Testing;
using BankGrains.Runtime.Tests.Grains;
using Microsoft.Extensions.DependencyInjection;

namespace BankGrains.Runtime.Tests.Execution;

/// <summary>Starts a one-silo TestCluster with the test grains and the given configuration keys.</summary>
internal static class Clusters
{
    public static Task<TestCluster> StartAsync(params (string Key, string Value)[] settings) => StartAsync(null, settings);

    public static Task<TestCluster> StartAsync(Action<TestClusterOptions>? configure, params (string Key, string Value)[] settings) =>
        TestCluster.StartAsync(options =>
        {
            foreach (var (key, value) in settings) options.Configuration[key] = value;
            options.ConfigureSilo = silo => silo.AddGrains(typeof(ConcurrencyProbeGrain).Assembly);
            options.ConfigureServices = services =>
            {
                services.AddSingleton<LifecycleLog>();
                services.AddSingleton<FailureSwitch>();
            };
            configure?.Invoke(options);
        });

    /// <summary>Polls until <paramref name="condition"/> holds or the bound passes; the bound is generous, the poll is fast.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            if (await Holds(condition)) return true;
            await Task.Delay(20);
        }
        return await Holds(condition);
    }

    // While a cluster recovers, a probe may fail (outcome unknown, timeout): that only means "not yet".
    private static async Task<bool> Holds(Func<Task<bool>> condition)
    {
        try { return await condition(); }
        catch (Exception) { return false; }
    }
}
