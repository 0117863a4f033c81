using System.Reflection;

namespace BankGrains.Runtime.CodeGeneration;

/// <summary>
/// One grain method as the runtime sees it: its position in the interface (the wire identity),
/// parameter and result types (for copying and serialisation), an invoker written at compile time,
/// and the scheduling attributes declared on the interface method.
/// </summary>
public sealed class GrainMethodDescription
{
    private readonly Lazy<MethodInfo?> _methodInfo;

    public GrainMethodDescription(int index, Type declaringInterface, string name, Type[] parameterTypes, Type? resultType,
        Func<object, object?[], Task<object?>> invoke)
    {
        Index = index;
        DeclaringInterface = declaringInterface;
        Name = name;
        ParameterTypes = parameterTypes;
        ResultType = resultType;
        Invoke = invoke;
        _methodInfo = new Lazy<MethodInfo?>(() => declaringInterface.GetMethod(name, parameterTypes));
        var method = _methodInfo.Value;
        AlwaysInterleave = method?.IsDefined(typeof(AlwaysInterleaveAttribute), inherit: true) ?? false;
        ReadOnly = method?.IsDefined(typeof(ReadOnlyAttribute), inherit: true) ?? false;
        TransactionOption = (method?.GetCustomAttributes(typeof(Transactions.TransactionAttribute), inherit: true).FirstOrDefault() as Transactions.TransactionAttribute)?.Option;
    }

    public int Index { get; }
    public Type DeclaringInterface { get; }
    public string Name { get; }
    public IReadOnlyList<Type> ParameterTypes { get; }

    /// <summary>The T of Task&lt;T&gt;; null for a plain Task.</summary>
    public Type? ResultType { get; }

    /// <summary>Calls the method on a grain instance with already-isolated arguments.</summary>
    public Func<object, object?[], Task<object?>> Invoke { get; }

    public bool AlwaysInterleave { get; }
    public bool ReadOnly { get; }

    /// <summary>From [Transaction(...)]; null when the method does not take part in transactions.</summary>
    public Transactions.TransactionOption? TransactionOption { get; }
    public MethodInfo? MethodInfo => _methodInfo.Value;

    /// <summary>Set by the owning <see cref="GrainInterfaceDescription"/>.</summary>
    public GrainInterfaceDescription Interface { get; internal set; } = null!;

    public override string ToString() => $"{DeclaringInterface.Name}.{Name}";
}
