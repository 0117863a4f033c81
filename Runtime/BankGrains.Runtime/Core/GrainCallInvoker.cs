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
    TimeProvider time) : IGrainCallInvoker
{
    private readonly IOutgoingGrainCallFilter[] _filters = filters.ToArray();
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
        var message = new Message(
            Interlocked.Increment(ref _nextMessageId), target, method,
            ArgumentCopier.CopyArguments(method.ParameterTypes, arguments),
            time.GetUtcNow() + timeout, RequestContext.Export());
        router.Send(message);
        try
        {
            return await message.Response.Task.WaitAsync(timeout, time).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!message.Response.Task.IsCompleted)
        {
            throw new GrainCallTimeoutException(
                $"{method} on grain {target} did not respond within {timeout.TotalSeconds:0.###} s (message #{message.Id}); it may or may not have run.");
        }
    }

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
