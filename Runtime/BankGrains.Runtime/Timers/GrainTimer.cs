using BankGrains.Runtime.Core;
using Microsoft.Extensions.Logging;

namespace BankGrains.Runtime.Timers;

/// <summary>A grain timer: not durable, lives and dies with its activation.</summary>
public interface IGrainTimer : IDisposable
{
    /// <summary>Reschedules: next tick after <paramref name="dueTime"/>, then every <paramref name="period"/>.</summary>
    void Change(TimeSpan dueTime, TimeSpan period);
}

/// <summary>Options of a grain timer (Orleans: GrainTimerCreationOptions).</summary>
public readonly record struct GrainTimerCreationOptions(TimeSpan DueTime, TimeSpan Period)
{
    /// <summary>Ticks may interleave with requests; by default a tick is a turn like any request.</summary>
    public bool Interleave { get; init; }

    /// <summary>Ticks count as activity, so the timer keeps the activation from being collected.</summary>
    public bool KeepAlive { get; init; }
}

/// <summary>
/// Each tick is queued in the activation's mailbox and runs as a turn; the next period starts
/// after the callback completes, so ticks never overlap.
/// </summary>
internal sealed class GrainTimer : IGrainTimer
{
    private readonly ActivationData _activation;
    private readonly Func<CancellationToken, Task> _callback;
    private readonly Timer _timer;
    private readonly CancellationTokenSource _disposed = new();
    private TimeSpan _period;

    public GrainTimer(ActivationData activation, Func<CancellationToken, Task> callback, GrainTimerCreationOptions options)
    {
        _activation = activation;
        _callback = callback;
        Interleave = options.Interleave;
        KeepAlive = options.KeepAlive;
        _timer = new Timer(static s => ((GrainTimer)s!).OnDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        activation.AddTimer(this);
        Change(options.DueTime, options.Period);
    }

    public bool Interleave { get; }
    public bool KeepAlive { get; }

    public void Change(TimeSpan dueTime, TimeSpan period)
    {
        if (_disposed.IsCancellationRequested) throw new ObjectDisposedException(nameof(GrainTimer));
        _period = period;
        _timer.Change(dueTime, Timeout.InfiniteTimeSpan);
    }

    private void OnDue()
    {
        if (_disposed.IsCancellationRequested) return;
        if (!_activation.TryEnqueue(new TimerTickWorkItem(this))) Dispose();
    }

    internal async Task TickAsync()
    {
        if (_disposed.IsCancellationRequested) return;
        try
        {
            await _callback(_disposed.Token);
        }
        catch (Exception error) when (!_disposed.IsCancellationRequested)
        {
            _activation.Runtime.Logger.LogWarning(error, "Timer callback of {GrainId} failed", _activation.GrainId);
        }
        catch (OperationCanceledException)
        {
        }
        if (!_disposed.IsCancellationRequested && _period != Timeout.InfiniteTimeSpan)
        {
            try { _timer.Change(_period, Timeout.InfiniteTimeSpan); }
            catch (ObjectDisposedException) { }
        }
    }

    public void Dispose()
    {
        if (_disposed.IsCancellationRequested) return;
        _disposed.Cancel();
        _timer.Dispose();
        _activation.RemoveTimer(this);
    }
}
