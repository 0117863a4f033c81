namespace BankGrains.Runtime.Reminders;

/// <summary>Implemented by grains that register durable reminders.</summary>
public interface IRemindable : IGrain
{
    Task ReceiveReminder(string reminderName, TickStatus status);
}

/// <summary>Which tick this is: the reminder's first tick time, its period and this tick's scheduled time.</summary>
[Immutable]
public readonly record struct TickStatus(DateTimeOffset FirstTickTime, TimeSpan Period, DateTimeOffset CurrentTickTime);

/// <summary>A handle to a registered reminder.</summary>
public interface IGrainReminder
{
    string ReminderName { get; }
}

internal sealed record GrainReminder(string ReminderName) : IGrainReminder;
