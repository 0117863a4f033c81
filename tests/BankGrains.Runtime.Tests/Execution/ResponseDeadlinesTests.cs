using BankGrains.Runtime.CodeGeneration;
using BankGrains.Runtime.Core;
using BankGrains.Runtime.Messaging;
using BankGrains.Runtime.Tests.Grains;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace BankGrains.Runtime.Tests.Execution;

/// <summary>One periodic check fails the calls whose deadline passed, and only those.</summary>
public sealed class ResponseDeadlinesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(80);

    private static Message Call(long id, TimeSpan deadlineIn) => new(id, new GrainId("slow", id.ToString()),
        GrainInterfaceRegistry.Get(typeof(ISlowGrain)).Methods.Single(m => m.Name == nameof(ISlowGrain.SleepAsync)),
        [1], DateTimeOffset.UtcNow + deadlineIn, null);

    [Fact]
    public async Task A_call_past_its_deadline_fails_with_a_timeout_and_is_forgotten()
    {
        using var deadlines = new ResponseDeadlines(TimeProvider.System, Timeout);
        var late = Call(1, Timeout);
        deadlines.Add(late);

        var error = await Assert.ThrowsAsync<GrainCallTimeoutException>(() => late.Response.Task.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Contains("did not respond within 0.08 s (message #1)", error.Message);
        Assert.Equal(0, deadlines.Count);
    }

    [Fact]
    public async Task Calls_answered_or_still_in_time_are_left_alone()
    {
        using var deadlines = new ResponseDeadlines(TimeProvider.System, Timeout);
        var answered = Call(1, Timeout);
        var patient = Call(2, TimeSpan.FromMinutes(5));
        var late = Call(3, Timeout);
        deadlines.Add(answered);
        deadlines.Add(patient);
        deadlines.Add(late);
        answered.Complete(42);
        deadlines.Remove(answered);

        await Assert.ThrowsAsync<GrainCallTimeoutException>(() => late.Response.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        await Task.Delay(Timeout * 2);

        Assert.Equal(42, await answered.Response.Task);
        Assert.False(patient.Response.Task.IsCompleted);
        Assert.Equal(1, deadlines.Count);
    }

    [Fact]
    public async Task Once_disposed_it_still_times_out_the_calls_waiting_and_refuses_new_ones()
    {
        var deadlines = new ResponseDeadlines(TimeProvider.System, Timeout);
        var waiting = Call(1, Timeout);
        deadlines.Add(waiting);

        // A stopping process (or a killed test silo) disposes it with a caller still waiting.
        deadlines.Dispose();
        Assert.False(waiting.Response.Task.IsCompleted);
        await Assert.ThrowsAsync<GrainCallTimeoutException>(() => waiting.Response.Task.WaitAsync(TimeSpan.FromSeconds(10)));

        // Its checks then stop; a call made through it after that is not left waiting for ever.
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        while (!deadlines.HasStopped && stopping.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(10);
        Assert.True(deadlines.HasStopped);
        var late = Call(2, TimeSpan.FromMinutes(5));
        deadlines.Add(late);
        var error = await Assert.ThrowsAsync<GrainCallTimeoutException>(() => late.Response.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("runtime has stopped", error.Message);
    }

    [Fact]
    public async Task A_silo_waits_for_no_call_once_its_calls_have_ended()
    {
        await using var cluster = await Clusters.StartAsync(("Runtime:Messaging:ResponseTimeout", "00:00:00.300"));
        var invoker = (GrainCallInvoker)cluster.Silos[0].Services.GetRequiredService<IGrainCallInvoker>();
        var grain = cluster.GrainFactory.GetGrain<ISlowGrain>(Guid.NewGuid());

        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => grain.SleepAsync(0)));
        await Assert.ThrowsAsync<GrainCallTimeoutException>(() => grain.SleepAsync(2000));

        Assert.Equal(0, invoker.CallsWaiting);
    }
}
