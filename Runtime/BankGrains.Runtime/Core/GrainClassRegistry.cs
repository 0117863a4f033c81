using System.Reflection;

namespace BankGrains.Runtime.Core;

/// <summary>What the runtime knows about one grain class, read once by reflection at start-up.</summary>
public sealed class GrainClassInfo
{
    internal GrainClassInfo(Type classType)
    {
        ClassType = classType;
        TypeName = classType.GetCustomAttribute<GrainTypeAttribute>()?.Name ?? DefaultTypeName(classType);
        Reentrant = classType.IsDefined(typeof(ReentrantAttribute), inherit: true);
        MaxLocalWorkers = classType.GetCustomAttribute<StatelessWorkerAttribute>(inherit: true)?.MaxLocalWorkers;
        CollectionAge = classType.GetCustomAttribute<CollectionAgeLimitAttribute>(inherit: true)?.Age;
        Constructor = classType.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
            ?? throw new InvalidOperationException($"Grain class {classType.FullName} has no public constructor.");
    }

    public Type ClassType { get; }
    public string TypeName { get; }
    public bool Reentrant { get; }

    /// <summary>Set for [StatelessWorker] classes: how many activations one silo may run per id.</summary>
    public int? MaxLocalWorkers { get; }

    public TimeSpan? CollectionAge { get; }
    internal ConstructorInfo Constructor { get; }

    private static string DefaultTypeName(Type type)
    {
        var name = type.Name;
        if (name.EndsWith("Grain", StringComparison.Ordinal) && name.Length > "Grain".Length) name = name[..^"Grain".Length];
        return name.ToLowerInvariant();
    }
}

/// <summary>
/// Maps grain interfaces to the one class that implements each, and grain type names to classes.
/// Built from the assemblies the host registers (AddGrains).
/// </summary>
public sealed class GrainClassRegistry
{
    private readonly Dictionary<Type, GrainClassInfo> _byInterface = new();
    private readonly Dictionary<string, GrainClassInfo> _byTypeName = new(StringComparer.Ordinal);

    public GrainClassRegistry(IEnumerable<Assembly> assemblies)
    {
        var ambiguous = new HashSet<Type>();
        foreach (var type in assemblies.Distinct().SelectMany(a => a.GetTypes()))
        {
            if (!type.IsClass || type.IsAbstract || !typeof(Grain).IsAssignableFrom(type) || type.IsGenericTypeDefinition) continue;
            var info = new GrainClassInfo(type);
            if (!_byTypeName.TryAdd(info.TypeName, info))
                throw new InvalidOperationException(
                    $"Grain classes {_byTypeName[info.TypeName].ClassType.FullName} and {type.FullName} share the type name '{info.TypeName}'; give one a [GrainType].");
            foreach (var iface in type.GetInterfaces().Where(i => typeof(IGrain).IsAssignableFrom(i) && i != typeof(IGrain)))
            {
                // Incoming messages name interfaces; their generated descriptions must be known before any arrives.
                CodeGeneration.GrainInterfaceRegistry.Load(iface.Assembly);
                if (!_byInterface.TryAdd(iface, info)) ambiguous.Add(iface);
            }
        }
        // An interface implemented by several classes (IRemindable, say) can only be addressed by full grain id.
        foreach (var iface in ambiguous) _byInterface.Remove(iface);
        _ambiguous = ambiguous;
    }

    private readonly HashSet<Type> _ambiguous;

    public IEnumerable<GrainClassInfo> Classes => _byTypeName.Values;

    public GrainClassInfo ForInterface(Type interfaceType)
    {
        if (_byInterface.TryGetValue(interfaceType, out var info)) return info;
        throw new InvalidOperationException(_ambiguous.Contains(interfaceType)
            ? $"Several grain classes implement {interfaceType.FullName}; address the grain by its GrainId."
            : $"No grain class implements {interfaceType.FullName}. Was its assembly added with AddGrains?");
    }

    public bool TryGetByTypeName(string typeName, out GrainClassInfo info) => _byTypeName.TryGetValue(typeName, out info!);
}
