using System.Globalization;
using BankGrains.Runtime.Core;
using BankGrains.Runtime.Reminders;
using BankGrains.Runtime.Timers;

namespace BankGrains.Runtime;

/// <summary>
/// Base class of grain implementations. The runtime creates instances; grain code runs one turn
/// at a time on its activation and reaches the runtime through the members here.
/// </summary>
public abstract class Grain : Transactions.ITransactionParticipant
{
    private readonly ActivationData? _activation;

    protected Grain() => _activation = ActivationData.Constructing;

    internal ActivationData Activation =>
        _activation ?? throw new InvalidOperationException("This grain was not created by the BankGrains runtime.");

    public GrainId GrainId => Activation.GrainId;

    protected IGrainFactory GrainFactory => Activation.Runtime.GrainFactory;

    protected IServiceProvider ServiceProvider => Activation.Runtime.Services;

    public Guid GetPrimaryKey() => Guid.Parse(GrainId.Key);

    public string GetPrimaryKeyString() => GrainId.Key;

    public long GetPrimaryKeyLong() => long.Parse(GrainId.Key, CultureInfo.InvariantCulture);

    /// <summary>Runs after the persistent state has been read and before the first request.</summary>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs after the last request finished; not run when the silo crashes.</summary>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Deactivate once the current request completes.</summary>
    protected void DeactivateOnIdle() =>
        Activation.DeactivateOnIdle(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "DeactivateOnIdle was called"));

    /// <summary>Keep this activation out of idle collection for at least <paramref name="period"/>.</summary>
    protected void DelayDeactivation(TimeSpan period) => Activation.DelayDeactivation(period);

    protected IGrainTimer RegisterGrainTimer(Func<CancellationToken, Task> callback, GrainTimerCreationOptions options) =>
        new GrainTimer(Activation, callback, options);

    protected IGrainTimer RegisterGrainTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period) =>
        RegisterGrainTimer(callback, new GrainTimerCreationOptions(dueTime, period));

    /// <summary>Registers (or moves) a durable reminder; the grain must implement <see cref="IRemindable"/>.</summary>
    protected Task<IGrainReminder> RegisterOrUpdateReminder(string reminderName, TimeSpan dueTime, TimeSpan period)
    {
        if (this is not IRemindable)
            throw new InvalidOperationException($"{GetType().Name} must implement IRemindable to register reminders.");
        return Activation.Runtime.Reminders.RegisterOrUpdateAsync(GrainId, reminderName, dueTime, period);
    }

    protected Task UnregisterReminder(IGrainReminder reminder) => Activation.Runtime.Reminders.UnregisterAsync(GrainId, reminder.ReminderName);

    protected Task<IGrainReminder?> GetReminder(string reminderName) => Activation.Runtime.Reminders.GetAsync(GrainId, reminderName);

    protected Task<IReadOnlyList<IGrainReminder>> GetReminders() => Activation.Runtime.Reminders.GetAllAsync(GrainId);

    // The commit protocol reaches the activation's transactional states; a grain without any has
    // nothing to prepare (it never joins a transaction, so these calls do not normally reach it).
    Task<Transactions.TransactionVote> Transactions.ITransactionParticipant.PrepareAsync(Guid transactionId, Guid run) =>
        Activation.Transactions is { } resource
            ? resource.PrepareAsync(new Transactions.TransactionKey(transactionId, run))
            : Task.FromResult(Transactions.TransactionVote.Refuse(Transactions.TransactionAbortReason.ParticipantLost,
                $"{GrainId} has no transactional state"));

    Task Transactions.ITransactionParticipant.DecideAsync(Guid transactionId, Guid run, bool committed, bool reload)
    {
        Activation.Transactions?.Decide(new Transactions.TransactionKey(transactionId, run), committed, reload);
        return Task.CompletedTask;
    }
}
