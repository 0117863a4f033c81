using BankGrains.Runtime.Transactions;
using BankGrains.Runtime.Messaging;
using BankGrains.Runtime.Serialization;
using BankGrains.Runtime.Timers;

namespace BankGrains.Runtime.Core;

/// <summary>One turn's worth of work in an activation's mailbox: a request, or a timer tick.</summary>
internal abstract class WorkItem
{
    /// <summary>May start while other work of the activation is in progress.</summary>
    public abstract bool AlwaysInterleave { get; }

    /// <summary>Declared read-only: may run alongside other read-only work.</summary>
    public abstract bool ReadOnly { get; }

    /// <summary>The transaction whose lock this work needs before it may start (wait-die at the mailbox).</summary>
    public virtual TransactionInfo? LockRequest => null;

    /// <summary>Counts as activity that postpones idle collection.</summary>
    public abstract bool KeepsAlive { get; }

    public abstract Task ExecuteAsync(ActivationData activation);

    /// <summary>The activation could not run this item (activation failed, silo killed).</summary>
    public abstract void Abandon(Exception reason);
}

internal sealed class RequestWorkItem(Message message) : WorkItem
{
    public Message Message { get; } = message;
    public override bool AlwaysInterleave => Message.Method.AlwaysInterleave;
    public override bool ReadOnly => Message.Method.ReadOnly;
    public override bool KeepsAlive => true;

    public override TransactionInfo? LockRequest =>
        Message.Transaction is not null && Message.Method.TransactionOption is TransactionOption.Join or TransactionOption.CreateOrJoin or TransactionOption.Supported
            ? Message.Transaction
            : null;

    public override async Task ExecuteAsync(ActivationData activation)
    {
        var now = activation.Runtime.Time.GetUtcNow();
        if (Message.IsExpired(now))
        {
            // The caller has already given up: running it now would act on a request nobody awaits.
            Message.Fail(new GrainCallTimeoutException($"{Message} expired in the mailbox before it started; it did not run."));
            return;
        }
        RequestContext.Import(Message.RequestContext);
        TransactionContext.Set(Message.Transaction);
        try
        {
            var result = StartsTransaction
                ? await activation.Runtime.Transactions.RunAsync(() => InvokeAsync(activation), transactionId: null)
                : await InvokeAsync(activation);
            Message.Complete(ArgumentCopier.Copy(result, Message.Method.ResultType));
        }
        catch (Exception error)
        {
            // A call that failed inside a transaction may have left this grain's copy half-changed:
            // the transaction can no longer commit here, even if its body catches the error.
            if (Message.Transaction is { } tx)
                activation.Transactions?.Doom(tx, TransactionAbortReason.ValidationFailed, $"{Message.Method} failed in this transaction ({error.GetType().Name})");
            Message.Fail(error);
        }
        finally
        {
            RequestContext.Clear();
            TransactionContext.Set(null);
        }
    }

    // [Transaction(Create)], or CreateOrJoin called outside a transaction: this silo coordinates a new one.
    private bool StartsTransaction => Message.Method.TransactionOption switch
    {
        TransactionOption.Create => true,
        TransactionOption.CreateOrJoin => Message.Transaction is null,
        _ => false,
    };

    private async Task<object?> InvokeAsync(ActivationData activation)
    {
        var grain = activation.Instance!;
        if (activation.Runtime.IncomingFilters.Length == 0 && grain is not IIncomingGrainCallFilter)
            return await Message.Method.Invoke(grain, Message.Arguments);
        var context = new IncomingCallContext(grain, Message, activation.Runtime.IncomingFilters);
        await context.Invoke();
        return context.Result;
    }

    public override void Abandon(Exception reason) => Message.Fail(reason);

    private sealed class IncomingCallContext(Grain grain, Message message, IIncomingGrainCallFilter[] filters) : IIncomingGrainCallContext
    {
        private int _stage;
        public object Grain => grain;
        public GrainId TargetId => message.Target;
        public CodeGeneration.GrainMethodDescription Method => message.Method;
        public object?[] Arguments => message.Arguments;
        public object? Result { get; set; }

        public async Task Invoke()
        {
            // Silo-wide filters first, then the grain's own filter, then the method (Orleans' order).
            var stage = _stage++;
            if (stage < filters.Length) await filters[stage].Invoke(this);
            else if (stage == filters.Length && grain is IIncomingGrainCallFilter own) await own.Invoke(this);
            else Result = await message.Method.Invoke(grain, message.Arguments);
        }
    }
}

internal sealed class TimerTickWorkItem(GrainTimer timer) : WorkItem
{
    public override bool AlwaysInterleave => timer.Interleave;
    public override bool ReadOnly => false;
    public override bool KeepsAlive => timer.KeepAlive;
    public override Task ExecuteAsync(ActivationData activation) => timer.TickAsync();
    public override void Abandon(Exception reason) { }
}
