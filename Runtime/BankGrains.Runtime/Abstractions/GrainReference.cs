using BankGrains.Runtime.CodeGeneration;

namespace BankGrains.Runtime;

/// <summary>
/// Base of every generated grain proxy. A reference is only an address: holding one does not
/// activate the grain, and every call on it becomes a message through the runtime.
/// </summary>
public abstract class GrainReference : IEquatable<GrainReference>
{
    private readonly IGrainCallInvoker _invoker;

    protected GrainReference(GrainReferenceArgs args)
    {
        _invoker = args.Invoker;
        GrainId = args.GrainId;
        Interface = args.Interface;
    }

    public GrainId GrainId { get; }
    public GrainInterfaceDescription Interface { get; }

    protected Task InvokeAsync(int methodIndex, object?[] arguments)
        => _invoker.InvokeAsync(this, Interface.Methods[methodIndex], arguments);

    protected async Task<T> InvokeAsync<T>(int methodIndex, object?[] arguments)
        => (T)(await _invoker.InvokeAsync(this, Interface.Methods[methodIndex], arguments).ConfigureAwait(false))!;

    public bool Equals(GrainReference? other) => other is not null && other.GrainId == GrainId;
    public override bool Equals(object? obj) => obj is GrainReference other && Equals(other);
    public override int GetHashCode() => GrainId.GetHashCode();
    public override string ToString() => $"{Interface.InterfaceType.Name}:{GrainId}";
}

/// <summary>What proxies call: sends one method call to a grain and returns its result.</summary>
public interface IGrainCallInvoker
{
    Task<object?> InvokeAsync(GrainReference target, GrainMethodDescription method, object?[] arguments);
}
