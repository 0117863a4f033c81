using System.Reflection;

namespace BankGrains.TestSupport;

/// <summary>Where a project of this repository was built: the child processes that tests and the bench start.</summary>
public static class BuiltProject
{
    /// <summary>
    /// &lt;repo&gt;/&lt;folder&gt;/bin/&lt;configuration&gt;/net10.0/&lt;assemblyName&gt;.dll, for the configuration
    /// <paramref name="caller"/> was built with, so a Release bench starts a Release Api and a Debug test a Debug one.
    /// </summary>
    public static string Dll(string folder, string assemblyName, Assembly caller)
    {
        var configuration = caller.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "BankGrains.sln"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException($"BankGrains.sln not found above {AppContext.BaseDirectory}.");
        var dll = Path.Combine(root.FullName, folder, "bin", configuration, "net10.0", assemblyName + ".dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"{assemblyName} is not built for {configuration}: run `dotnet build {folder} -c {configuration}`.", dll);
    }
}
