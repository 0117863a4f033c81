using System.Collections.Concurrent;
using System.Reflection;

namespace BankGrains.Runtime.CodeGeneration;

/// <summary>
/// Finds the generated description of a grain interface. Catalogs are loaded per assembly on first
/// use, so nothing has to be registered by hand.
/// </summary>
public static class GrainInterfaceRegistry
{
    private static readonly ConcurrentDictionary<Type, GrainInterfaceDescription> Descriptions = new();
    private static readonly ConcurrentDictionary<string, GrainInterfaceDescription> ByName = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<Assembly, Lazy<bool>> LoadedAssemblies = new();

    public static GrainInterfaceDescription Get(Type interfaceType)
    {
        if (Descriptions.TryGetValue(interfaceType, out var description)) return description;
        Load(interfaceType.Assembly);
        return Descriptions.TryGetValue(interfaceType, out description)
            ? description
            : throw new InvalidOperationException(
                $"No generated grain reference for '{interfaceType.FullName}'. Grain interfaces must extend IGrain, be declared " +
                "in a project that references BankGrains.CodeGen as an analyzer, and compile without BG diagnostics.");
    }

    /// <summary>The description of a wire name (<see cref="GrainInterfaceDescription.Name"/>); its assembly must be loaded first.</summary>
    public static bool TryGetByName(string name, out GrainInterfaceDescription description) => ByName.TryGetValue(name, out description!);

    /// <summary>Registers every generated interface of <paramref name="assembly"/> so messages naming them can be decoded.</summary>
    public static void Load(Assembly assembly) =>
        _ = LoadedAssemblies.GetOrAdd(assembly, static a => new Lazy<bool>(() => Register(a))).Value;

    // Lazy (in Load) makes concurrent first lookups wait until the catalog is fully registered.
    private static bool Register(Assembly assembly)
    {
        foreach (var attribute in assembly.GetCustomAttributes<GrainInterfaceCatalogAttribute>())
        {
            var catalog = (IGrainInterfaceCatalog)Activator.CreateInstance(attribute.CatalogType)!;
            foreach (var description in catalog.Interfaces)
            {
                Descriptions.TryAdd(description.InterfaceType, description);
                ByName.TryAdd(description.Name, description);
            }
        }
        return true;
    }
}
