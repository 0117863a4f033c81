using BankGrains.Runtime.CodeGeneration;

namespace BankGrains.Runtime;

/// <summary>One grain call as a filter sees it. Call <see cref="Invoke"/> to continue the chain.</summary>
public interface IGrainCallContext
{
    GrainId TargetId { get; }
    GrainMethodDescription Method { get; }
    string InterfaceName => Method.Interface.Name;
    string MethodName => Method.Name;
    object?[] Arguments { get; }
    object? Result { get; set; }
    Task Invoke();
}

/// <summary>A call arriving at an activation; runs inside the activation's turn.</summary>
public interface IIncomingGrainCallContext : IGrainCallContext
{
    object Grain { get; }
}

/// <summary>A call leaving a caller (a grain or a client), before it is sent.</summary>
public interface IOutgoingGrainCallContext : IGrainCallContext;

/// <summary>Silo-wide (registered in DI) or grain-level (implemented by the grain class) incoming filter.</summary>
public interface IIncomingGrainCallFilter
{
    Task Invoke(IIncomingGrainCallContext context);
}

/// <summary>Outgoing filter registered in DI; sees every call this process sends.</summary>
public interface IOutgoingGrainCallFilter
{
    Task Invoke(IOutgoingGrainCallContext context);
}
