using BankGrains.Runtime.Tests.Grains;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace BankGrains.Runtime.Tests.Execution;

public sealed class CallPipelineTests
{
    [Fact]
    public async Task A_call_past_the_response_timeout_fails_the_caller_with_a_clear_timeout()
    {
        await using var cluster = await Clusters.StartAsync(("Runtime:Messaging:ResponseTimeout", "00:00:00.200"));
        var grain = cluster.GrainFactory.GetGrain<ISlowGrain>(Guid.NewGuid());
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<GrainCallTimeoutException>(() => grain.SleepAsync(3000));

        // The configured 0.2 s applies, not the 3 s the grain sleeps (the bound is loose for a loaded machine).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"timed out only after {clock.Elapsed}");
        Assert.Contains("SleepAsync", error.Message);
        // On a busy machine the deadline can pass while the call still waits in the mailbox: then that is
        // what the caller hears (it did not run); otherwise the caller's own timer fires first.
        Assert.True(error.Message.Contains("0.2 s") || error.Message.Contains("did not run"), error.Message);
        Assert.IsAssignableFrom<TimeoutException>(error);
    }

    [Fact]
    public async Task The_default_response_timeout_is_thirty_seconds()
    {
        await using var cluster = await Clusters.StartAsync();
        var options = cluster.Silos[0].Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Hosting.MessagingOptions>>();
        Assert.Equal(TimeSpan.FromSeconds(30), options.Value.ResponseTimeout);
    }

    [Fact]
    public async Task Incoming_and_outgoing_filters_wrap_every_call_and_may_change_the_result()
    {
        await using var cluster = await Clusters.StartAsync(options => options.ConfigureSilo += silo => silo
            .AddIncomingGrainCallFilter<DoublingIncomingFilter>()
            .AddOutgoingGrainCallFilter<RecordingOutgoingFilter>());
        var grain = cluster.GrainFactory.GetGrain<ISlowGrain>(Guid.NewGuid());

        Assert.Equal(10, await grain.AddAsync(2, 3)); // the incoming filter doubles AddAsync results

        var incoming = cluster.Silos[0].Services.GetServices<IIncomingGrainCallFilter>().OfType<DoublingIncomingFilter>().Single();
        var outgoing = cluster.Silos[0].Services.GetServices<IOutgoingGrainCallFilter>().OfType<RecordingOutgoingFilter>().Single();
        Assert.Contains("ISlowGrain.AddAsync", incoming.Seen);
        Assert.Contains("ISlowGrain.AddAsync", outgoing.Seen);
    }

    [Fact]
    public async Task Request_context_flows_from_caller_to_grain_and_does_not_leak_back()
    {
        await using var cluster = await Clusters.StartAsync();
        var grain = cluster.GrainFactory.GetGrain<ISlowGrain>(Guid.NewGuid());

        RequestContext.Set("correlation-id", "abc-123");
        Assert.Equal("abc-123", await grain.ReadContextAsync("correlation-id"));
        RequestContext.Clear();
        Assert.Null(await grain.ReadContextAsync("correlation-id"));
    }

    [Fact]
    public async Task Arguments_and_results_are_isolated_from_the_caller()
    {
        await using var cluster = await Clusters.StartAsync();
        var grain = cluster.GrainFactory.GetGrain<IStateGrain>("isolation");

        var mine = new List<string> { "a" };
        await grain.AddItemsAsync(mine);
        mine.Add("changed by caller after the call");
        var returned = await grain.GetItemsAsync();
        returned.Add("changed by caller on the result");

        Assert.Equal(["a"], await grain.GetItemsAsync());
    }

    public sealed class DoublingIncomingFilter : IIncomingGrainCallFilter
    {
        public List<string> Seen { get; } = new();

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            lock (Seen) Seen.Add($"{context.Method.DeclaringInterface.Name}.{context.MethodName}");
            await context.Invoke();
            if (context.MethodName == nameof(ISlowGrain.AddAsync)) context.Result = (int)context.Result! * 2;
        }
    }

    public sealed class RecordingOutgoingFilter : IOutgoingGrainCallFilter
    {
        public List<string> Seen { get; } = new();

        public Task Invoke(IOutgoingGrainCallContext context)
        {
            lock (Seen) Seen.Add($"{context.Method.DeclaringInterface.Name}.{context.MethodName}");
            return context.Invoke();
        }
    }
}
