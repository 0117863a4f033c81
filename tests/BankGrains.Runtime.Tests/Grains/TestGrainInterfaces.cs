using BankGrains.Runtime;
using BankGrains.Runtime.Reminders;

namespace BankGrains.Runtime.Tests.Grains;

/// <summary>Records how many of its requests overlap, to check turn-based scheduling.</summary>
public interface IProbe : IGrain
{
    Task<int> WorkAsync(int delayMs);
    Task<int> IncrementAsync();
    [AlwaysInterleave] Task<string> PingInterleavedAsync();
    [ReadOnly] Task<int> ReadSlowlyAsync(int delayMs);
    Task BlockUntilReleasedAsync();
    [AlwaysInterleave] Task ReleaseAsync();
    Task<ProbeReport> ReportAsync();
}

public sealed record ProbeReport(int MaxOverlappingRequests, int ThreadViolations, int Count, string ActivationId);

public interface IConcurrencyProbeGrain : IProbe, IGrainWithStringKey;

public interface IReentrantProbeGrain : IProbe, IGrainWithStringKey;

public interface IWorkerGrain : IGrainWithIntegerKey
{
    Task<string> WorkAsync(int delayMs);
    Task<long> KeyAsync();
}

/// <summary>Keeps two states, in the default storage and in a named one.</summary>
public interface ITwoStoresGrain : IGrainWithStringKey
{
    Task SetAsync(int inDefault, int inArchive);
}

public interface ISlowGrain : IGrainWithGuidKey
{
    Task<string> SleepAsync(int delayMs);
    Task<string?> ReadContextAsync(string key);
    Task<int> AddAsync(int a, int b);
}

public interface ILifecycleGrain : IGrainWithStringKey
{
    Task<string> GetActivationIdAsync();
    Task DeactivateAsync();
    Task KeepAliveAsync(int milliseconds);
    Task<int> StartTimerAsync(int periodMs, bool interleave);
    Task<TimerReport> TimerReportAsync();
    Task StopTimerAsync();
}

public sealed record TimerReport(int Ticks, int OverlapsWithRequests, string ActivationId);

public interface IFailingActivationGrain : IGrainWithStringKey
{
    Task<string> HelloAsync();
}

public interface IStateGrain : IGrainWithStringKey
{
    Task<int> GetValueAsync();
    Task SetValueAsync(int value);
    Task<List<string>> GetItemsAsync();
    Task AddItemsAsync(List<string> items);
    Task<string?> GetEtagAsync();
    Task ClearAsync();
}

public interface IReminderGrain : IGrainWithStringKey, IRemindable
{
    Task StartAsync(int periodMs);
    Task StopAsync();
    Task<int> TicksAsync();
}
