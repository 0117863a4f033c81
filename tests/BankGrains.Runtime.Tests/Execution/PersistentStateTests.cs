using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Storage;
using BankGrains.Runtime.Tests.Grains;
using Xunit;

namespace BankGrains.Runtime.Tests.Execution;

public sealed class PersistentStateTests
{
    [Fact]
    public async Task State_is_read_on_activation_and_survives_a_silo_restart()
    {
        await using var cluster = await Clusters.StartAsync();
        await cluster.GrainFactory.GetGrain<IStateGrain>("durable").SetValueAsync(42);

        await cluster.RestartSiloAsync(cluster.Silos[0]);

        Assert.Equal(42, await cluster.GrainFactory.GetGrain<IStateGrain>("durable").GetValueAsync());
    }

    [Fact]
    public async Task A_stale_activation_cannot_write_and_its_memory_rolls_back_to_the_stored_state()
    {
        await using var cluster = await Clusters.StartAsync();
        var grain = cluster.GrainFactory.GetGrain<IStateGrain>("stale");
        await grain.SetValueAsync(1);

        // Someone else (a newer owner) writes behind this activation's back.
        var storage = cluster.Storage;
        var other = new GrainState<CounterState>(new CounterState());
        var id = new GrainId("state", "stale");
        await storage.ReadStateAsync("counter", id, other);
        other.State.Value = 100;
        await storage.WriteStateAsync("counter", id, other);

        await Assert.ThrowsAsync<InconsistentStateException>(() => grain.SetValueAsync(2));

        // The refused value is not served: memory went back to what this activation last stored.
        Assert.Equal(1, await grain.GetValueAsync());
        var stored = new GrainState<CounterState>(new CounterState());
        await storage.ReadStateAsync("counter", id, stored);
        Assert.Equal(100, stored.State.Value);
    }

    [Fact]
    public async Task A_failed_write_rolls_back_memory_and_a_later_write_succeeds()
    {
        var flaky = new FlakyStorage(new MemoryGrainStorage());
        await using var cluster = await Clusters.StartAsync(options =>
            options.ConfigureSilo += silo => silo.UseStorage(_ => flaky, _ => new MemoryReminderTable()));
        var grain = cluster.GrainFactory.GetGrain<IStateGrain>("flaky");
        await grain.SetValueAsync(5);

        flaky.FailNextWrite = true;
        await Assert.ThrowsAsync<IOException>(() => grain.SetValueAsync(6));
        Assert.Equal(5, await grain.GetValueAsync());

        await grain.SetValueAsync(7);
        Assert.Equal(7, await grain.GetValueAsync());
    }

    [Fact]
    public async Task Clear_removes_the_state_and_the_etag_moves_on()
    {
        await using var cluster = await Clusters.StartAsync();
        var grain = cluster.GrainFactory.GetGrain<IStateGrain>("clear");
        await grain.SetValueAsync(3);
        var before = await grain.GetEtagAsync();

        await grain.ClearAsync();

        Assert.Equal(0, await grain.GetValueAsync());
        Assert.NotEqual(before, await grain.GetEtagAsync());
        await cluster.RestartSiloAsync(cluster.Silos[0]);
        Assert.Equal(0, await cluster.GrainFactory.GetGrain<IStateGrain>("clear").GetValueAsync());
    }

    [Fact]
    public async Task A_named_storage_holds_the_states_that_name_it()
    {
        var archive = new MemoryGrainStorage();
        await using var cluster = await Clusters.StartAsync(options => options.ConfigureSilo += silo => silo.AddGrainStorage("archive", _ => archive));

        await cluster.GrainFactory.GetGrain<ITwoStoresGrain>("two").SetAsync(inDefault: 1, inArchive: 2);

        var id = new GrainId("twostores", "two");
        var inArchive = new GrainState<CounterState>(new CounterState());
        await archive.ReadStateAsync("archive", id, inArchive);
        Assert.Equal(2, inArchive.State.Value);
        var inDefault = new GrainState<CounterState>(new CounterState());
        await cluster.Storage.ReadStateAsync("current", id, inDefault);
        Assert.Equal(1, inDefault.State.Value);
        await archive.ReadStateAsync("current", id, inDefault);
        Assert.False(inDefault.RecordExists);
    }

    [Fact]
    public async Task Integer_keys_reach_the_grain()
    {
        await using var cluster = await Clusters.StartAsync();
        Assert.Equal(-42, await cluster.GrainFactory.GetGrain<IWorkerGrain>(-42).KeyAsync());
    }

    private sealed class FlakyStorage(IGrainStorage inner) : IGrainStorage
    {
        public volatile bool FailNextWrite;

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (FailNextWrite)
            {
                FailNextWrite = false;
                throw new IOException("disk unplugged");
            }
            return inner.WriteStateAsync(stateName, grainId, grainState);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
