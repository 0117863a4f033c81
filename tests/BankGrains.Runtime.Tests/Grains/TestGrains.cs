using BankGrains.Runtime;
using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Reminders;
using BankGrains.Runtime.Timers;

namespace BankGrains.Runtime.Tests.Grains;

public abstract class ProbeGrainBase : Grain, IProbe
{
    private readonly string _activationId = Guid.NewGuid().ToString("N");
    private int _inFlight;
    private int _maxInFlight;
    private int _executing;
    private int _threadViolations;
    private int _count;
    private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Called around every synchronous stretch: two threads inside one grain at once is a violation.
    private void Enter() { if (Interlocked.Increment(ref _executing) != 1) Interlocked.Increment(ref _threadViolations); }
    private void Exit() => Interlocked.Decrement(ref _executing);

    private void Begin() { Enter(); _inFlight++; _maxInFlight = Math.Max(_maxInFlight, _inFlight); Thread.SpinWait(2000); Exit(); }
    private void End() { Enter(); _inFlight--; Exit(); }

    public async Task<int> WorkAsync(int delayMs)
    {
        Begin();
        await Task.Delay(delayMs);
        End();
        return _maxInFlight;
    }

    public async Task<int> IncrementAsync()
    {
        Begin();
        var read = _count;
        await Task.Yield();
        await Task.Delay(1);
        _count = read + 1; // a lost update here means two turns interleaved
        End();
        return _count;
    }

    public Task<string> PingInterleavedAsync() => Task.FromResult("pong");

    public async Task<int> ReadSlowlyAsync(int delayMs)
    {
        Begin();
        await Task.Delay(delayMs);
        End();
        return _count;
    }

    public async Task BlockUntilReleasedAsync()
    {
        Begin();
        await _gate.Task;
        _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        End();
    }

    public Task ReleaseAsync()
    {
        _gate.TrySetResult();
        return Task.CompletedTask;
    }

    public Task<ProbeReport> ReportAsync() => Task.FromResult(new ProbeReport(_maxInFlight, _threadViolations, _count, _activationId));
}

public sealed class ConcurrencyProbeGrain : ProbeGrainBase, IConcurrencyProbeGrain;

[Reentrant]
public sealed class ReentrantProbeGrain : ProbeGrainBase, IReentrantProbeGrain;

[StatelessWorker(3)]
public sealed class WorkerGrain : Grain, IWorkerGrain
{
    private readonly string _activationId = Guid.NewGuid().ToString("N");

    public async Task<string> WorkAsync(int delayMs)
    {
        await Task.Delay(delayMs);
        return _activationId;
    }

    public Task<long> KeyAsync() => Task.FromResult(GetPrimaryKeyLong());
}

public sealed class TwoStoresGrain(
    [PersistentState("current")] IPersistentState<CounterState> current,
    [PersistentState("archive", "archive")] IPersistentState<CounterState> archive) : Grain, ITwoStoresGrain
{
    public async Task SetAsync(int inDefault, int inArchive)
    {
        current.State.Value = inDefault;
        archive.State.Value = inArchive;
        await current.WriteStateAsync();
        await archive.WriteStateAsync();
    }
}

public sealed class SlowGrain : Grain, ISlowGrain
{
    public async Task<string> SleepAsync(int delayMs)
    {
        await Task.Delay(delayMs);
        return "woke";
    }

    public Task<string?> ReadContextAsync(string key) => Task.FromResult(RequestContext.Get(key));

    public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);
}

public sealed class LifecycleGrain(LifecycleLog log) : Grain, ILifecycleGrain
{
    private readonly string _activationId = Guid.NewGuid().ToString("N");
    private IGrainTimer? _timer;
    private int _ticks;
    private int _overlaps;
    private bool _inRequest;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        log.Add($"activate {GrainId.Key} {_activationId}");
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        log.Add($"deactivate {GrainId.Key} {_activationId} {reason.Code}");
        return Task.CompletedTask;
    }

    public Task<string> GetActivationIdAsync() => Task.FromResult(_activationId);

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task KeepAliveAsync(int milliseconds)
    {
        DelayDeactivation(TimeSpan.FromMilliseconds(milliseconds));
        return Task.CompletedTask;
    }

    public async Task<int> StartTimerAsync(int periodMs, bool interleave)
    {
        _timer?.Dispose();
        _timer = RegisterGrainTimer(async _ =>
        {
            if (_inRequest) _overlaps++;
            _ticks++;
            await Task.Delay(5);
        }, new GrainTimerCreationOptions(TimeSpan.FromMilliseconds(periodMs), TimeSpan.FromMilliseconds(periodMs)) { Interleave = interleave, KeepAlive = true });
        // Stay inside a request for a while so a non-interleaving timer has to wait for it. An interleaving
        // one is also given until its first tick (at most 5 s): on a loaded machine a timer can fire late,
        // and a late tick must not pass for none.
        _inRequest = true;
        await Task.Delay(periodMs * 3);
        var bound = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (interleave && Volatile.Read(ref _ticks) == 0 && DateTime.UtcNow < bound) await Task.Delay(periodMs);
        _inRequest = false;
        return _ticks;
    }

    public Task<TimerReport> TimerReportAsync() => Task.FromResult(new TimerReport(_ticks, _overlaps, _activationId));

    public Task StopTimerAsync()
    {
        _timer?.Dispose();
        _timer = null;
        return Task.CompletedTask;
    }
}

/// <summary>Shared through DI so tests can see lifecycle events of activations that no longer exist.</summary>
public sealed class LifecycleLog
{
    private readonly List<string> _entries = new();
    public void Add(string entry) { lock (_entries) _entries.Add(entry); }
    public IReadOnlyList<string> Entries { get { lock (_entries) return _entries.ToList(); } }
}

public sealed class FailingActivationGrain(FailureSwitch failures) : Grain, IFailingActivationGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
        => failures.FailActivation ? throw new InvalidOperationException("activation refused by test") : Task.CompletedTask;

    public Task<string> HelloAsync() => Task.FromResult("hello");
}

public sealed class FailureSwitch
{
    public volatile bool FailActivation;
}

public sealed class CounterState
{
    public int Value { get; set; }
    public List<string> Items { get; set; } = new();
}

public sealed class StateGrain([PersistentState("counter")] IPersistentState<CounterState> state) : Grain, IStateGrain
{
    public Task<int> GetValueAsync() => Task.FromResult(state.State.Value);

    public async Task SetValueAsync(int value)
    {
        state.State.Value = value;
        await state.WriteStateAsync();
    }

    public Task<List<string>> GetItemsAsync() => Task.FromResult(state.State.Items);

    public async Task AddItemsAsync(List<string> items)
    {
        state.State.Items.AddRange(items);
        await state.WriteStateAsync();
    }

    public Task<string?> GetEtagAsync() => Task.FromResult(state.Etag);

    public Task ClearAsync() => state.ClearStateAsync();
}

public sealed class ReminderState
{
    public int Ticks { get; set; }
}

public sealed class ReminderGrain([PersistentState("reminder")] IPersistentState<ReminderState> state) : Grain, IReminderGrain
{
    public Task StartAsync(int periodMs) =>
        RegisterOrUpdateReminder("tick", TimeSpan.FromMilliseconds(periodMs), TimeSpan.FromMilliseconds(periodMs));

    public async Task StopAsync()
    {
        if (await GetReminder("tick") is { } reminder) await UnregisterReminder(reminder);
    }

    public Task<int> TicksAsync() => Task.FromResult(state.State.Ticks);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State.Ticks++;
        await state.WriteStateAsync();
    }
}
