using System.Collections.Immutable;
using BankGrains.Runtime.CodeGeneration;

namespace BankGrains.Runtime.Messaging;

/// <summary>
/// One grain call in flight: target, method, isolated arguments, deadline and request context.
/// The caller awaits <see cref="Response"/>; whoever executes the call completes it exactly once.
/// </summary>
public sealed class Message
{
    public Message(long id, GrainId target, GrainMethodDescription method, object?[] arguments, DateTimeOffset deadline,
        ImmutableDictionary<string, string>? requestContext, Transactions.TransactionInfo? transaction = null)
    {
        Transaction = transaction;
        Id = id;
        Target = target;
        Method = method;
        Arguments = arguments;
        Deadline = deadline;
        RequestContext = requestContext;
    }

    public long Id { get; }
    public GrainId Target { get; }
    public GrainMethodDescription Method { get; }
    public object?[] Arguments { get; }
    public DateTimeOffset Deadline { get; }
    public ImmutableDictionary<string, string>? RequestContext { get; }

    /// <summary>The caller's transaction as this call carries it; the callee's additions come back in it.</summary>
    public Transactions.TransactionInfo? Transaction { get; }

    public TaskCompletionSource<object?> Response { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsExpired(DateTimeOffset now) => now >= Deadline;

    public void Complete(object? result) => Response.TrySetResult(result);

    public void Fail(Exception error) => Response.TrySetException(error);

    public override string ToString() => $"#{Id} {Method} -> {Target}";
}
