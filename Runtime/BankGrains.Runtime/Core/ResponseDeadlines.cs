using System.Collections.Concurrent;
using BankGrains.Runtime.Messaging;

namespace BankGrains.Runtime.Core;

/// <summary>
/// The calls a process is waiting for, failed once their deadline has passed. One periodic check over
/// all of them (as Orleans does for its callbacks) rather than a timer per call: a transfer makes about
/// ten grain calls, and each timer cost allocations and two trips through the timer queue's lock.
/// A call learns of its timeout at most one period late: an eighth of the response timeout, between
/// 10 ms and 1 s.
/// </summary>
internal sealed class ResponseDeadlines : IDisposable
{
    private const string StoppedReason = "this process's runtime has stopped, so no answer can arrive";
    private readonly ConcurrentDictionary<long, Message> _waiting = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly ITimer _timer;
    private volatile bool _disposed;
    private volatile bool _stopped;

    public ResponseDeadlines(TimeProvider time, TimeSpan timeout)
    {
        _time = time;
        _timeout = timeout;
        var period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 8, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(1).Ticks));
        _timer = time.CreateTimer(static state => ((ResponseDeadlines)state!).FailExpired(), this, period, period);
    }

    /// <summary>Calls still waiting (for tests and diagnostics).</summary>
    public int Count => _waiting.Count;

    /// <summary>Disposed, and the last waiting call has ended: no more checks run.</summary>
    public bool HasStopped => _stopped;

    public void Add(Message message)
    {
        _waiting[message.Id] = message;
        if (_stopped) FailAll(StoppedReason);
    }

    public void Remove(Message message) => _waiting.TryRemove(message.Id, out _);

    /// <summary>
    /// The checks go on until the calls still waiting have ended: a caller whose process is stopping
    /// (or a test that killed its silo) still hears of its timeout, as it did with a timer of its own.
    /// </summary>
    public void Dispose()
    {
        _disposed = true;
        FailExpired();
    }

    private void FailExpired()
    {
        var now = _time.GetUtcNow();
        foreach (var (id, message) in _waiting)
        {
            if (!message.IsExpired(now)) continue;
            Fail(id, message, $"did not respond within {_timeout.TotalSeconds:0.###} s");
        }
        if (_disposed && _waiting.IsEmpty && !_stopped)
        {
            _stopped = true;
            _timer.Dispose();
            // A call added while the checks stopped is failed here or by its own Add.
            FailAll(StoppedReason);
        }
    }

    private void FailAll(string why)
    {
        foreach (var (id, message) in _waiting) Fail(id, message, why);
    }

    private void Fail(long id, Message message, string why)
    {
        // Forgotten first, so the caller finds it gone. Whoever runs the call may still answer: the
        // first outcome wins, and the caller has stopped waiting.
        _waiting.TryRemove(id, out _);
        message.Fail(new GrainCallTimeoutException($"{message.Method} on grain {message.Target} {why} (message #{id}); it may or may not have run."));
    }
}
