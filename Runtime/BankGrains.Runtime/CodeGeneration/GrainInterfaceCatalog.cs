namespace BankGrains.Runtime.CodeGeneration;

/// <summary>Names the generated catalog of an assembly's grain interfaces (written by BankGrains.CodeGen).</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class GrainInterfaceCatalogAttribute(Type catalogType) : Attribute
{
    public Type CatalogType { get; } = catalogType;
}

/// <summary>Implemented by generated code: every grain interface an assembly declares.</summary>
public interface IGrainInterfaceCatalog
{
    IReadOnlyList<GrainInterfaceDescription> Interfaces { get; }
}

/// <summary>What a generated proxy needs from the runtime.</summary>
public readonly record struct GrainReferenceArgs(IGrainCallInvoker Invoker, GrainId GrainId, GrainInterfaceDescription Interface);

/// <summary>One grain interface: how to make its proxy, and its methods by index.</summary>
public sealed class GrainInterfaceDescription
{
    public GrainInterfaceDescription(Type interfaceType, Func<GrainReferenceArgs, GrainReference> createProxy, GrainMethodDescription[] methods)
    {
        InterfaceType = interfaceType;
        CreateProxy = createProxy;
        Methods = methods;
        foreach (var method in methods) method.Interface = this;
    }

    public Type InterfaceType { get; }
    public string Name => InterfaceType.FullName ?? InterfaceType.Name;
    public Func<GrainReferenceArgs, GrainReference> CreateProxy { get; }
    public IReadOnlyList<GrainMethodDescription> Methods { get; }
}
