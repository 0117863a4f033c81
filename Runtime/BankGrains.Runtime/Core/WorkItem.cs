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
        try
        {
            var grain = activation.Instance!;
            object? result;
            if (activation.Runtime.IncomingFilters.Length == 0 && grain is not IIncomingGrainCallFilter)
            {
                result = await Message.Method.Invoke(grain, Message.Arguments);
            }
            else
            {
                var context = new IncomingCallContext(grain, Message, activation.Runtime.IncomingFilters);
                await context.Invoke();
                result = context.Result;
            }
            Message.Complete(ArgumentCopier.Copy(result, Message.Method.ResultType));
        }
        catch (Exception error)
        {
            Message.Fail(error);
        }
        finally
        {
            RequestContext.Clear();
        }
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
