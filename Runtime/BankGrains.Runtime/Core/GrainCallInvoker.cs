using BankGrains.Runtime.Transactions;
using BankGrains.Runtime.CodeGeneration;
using BankGrains.Runtime.Hosting;
using BankGrains.Runtime.Messaging;
using BankGrains.Runtime.Serialization;
using Microsoft.Extensions.Options;

namespace BankGrains.Runtime.Core;

/// <summary>
/// The caller's side of every grain call: isolates arguments, runs outgoing filters, stamps the
/// deadline and request context, hands the message to the router and waits for the response.
/// </summary>
public sealed class GrainCallInvoker(
    IMessageRouter router,
    IEnumerable<IOutgoingGrainCallFilter> filters,
    IOptions<MessagingOptions> options,
    TimeProvider time) : IGrainCallInvoker, IDisposable
{
    private readonly IOutgoingGrainCallFilter[] _filters = filters.ToArray();
    private readonly ResponseDeadlines _deadlines = new(time, options.Value.ResponseTimeout);
    private long _nextMessageId;

    public async Task<object?> InvokeAsync(GrainReference target, GrainMethodDescription method, object?[] arguments)
    {
        if (_filters.Length == 0) return await SendAsync(target.GrainId, method, arguments).ConfigureAwait(false);
        var context = new OutgoingCallContext(this, target.GrainId, method, arguments, _filters);
        await context.Invoke().ConfigureAwait(false);
        return context.Result;
    }

    internal async Task<object?> SendAsync(GrainId target, GrainMethodDescription method, object?[] arguments)
    {
        var timeout = options.Value.ResponseTimeout;
        var ambient = TransactionContext.Current;
        var carried = TransactionToCarry(method, ambient);
        var message = new Message(
            Interlocked.Increment(ref _nextMessageId), target, method,
            ArgumentCopier.CopyArguments(method.ParameterTypes, arguments),
            time.GetUtcNow() + timeout, RequestContext.Export(), carried);
        _deadlines.Add(message);
        try
        {
            router.Send(message);
            return await message.Response.Task.ConfigureAwait(false);
        }
        finally
        {
            _deadlines.Remove(message);
            // Even a failed call may have joined grains to the transaction: the coordinator must abort them.
            if (carried is not null) ambient!.Merge(carried.ToReply());
        }
    }

    /// <summary>Calls this process is waiting for.</summary>
    internal int CallsWaiting => _deadlines.Count;

    public void Dispose() => _deadlines.Dispose();

    /// <summary>The copy of the caller's transaction a call carries, by the callee method's [Transaction] option.</summary>
    private static TransactionInfo? TransactionToCarry(GrainMethodDescription method, TransactionInfo? ambient) => method.TransactionOption switch
    {
        null or TransactionOption.Suppress or TransactionOption.Create => null,
        TransactionOption.NotAllowed when ambient is not null =>
            throw new NotSupportedException($"{method} is [Transaction(NotAllowed)] and was called inside transaction {ambient}."),
        TransactionOption.NotAllowed => null,
        TransactionOption.Join when ambient is null =>
            throw new NotSupportedException($"{method} is [Transaction(Join)]: it must be called inside a transaction."),
        _ => ambient?.Fork(),
    };

    private sealed class OutgoingCallContext(GrainCallInvoker invoker, GrainId target, GrainMethodDescription method,
        object?[] arguments, IOutgoingGrainCallFilter[] filters) : IOutgoingGrainCallContext
    {
        private int _stage;
        public GrainId TargetId => target;
        public GrainMethodDescription Method => method;
        public object?[] Arguments => arguments;
        public object? Result { get; set; }

        public async Task Invoke()
        {
            var stage = _stage++;
            if (stage < filters.Length) await filters[stage].Invoke(this).ConfigureAwait(false);
            else Result = await invoker.SendAsync(target, method, arguments).ConfigureAwait(false);
        }
    }
}
