using System.Collections.Immutable;
using BankGrains.CodeGen;
using BankGrains.Runtime;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace BankGrains.CodeGen.Tests;

/// <summary>Drives the generator over small sources and compiles what it writes.</summary>
public sealed class GrainReferenceGeneratorTests
{
    [Fact]
    public void Writes_a_proxy_and_method_table_that_compile_for_inherited_and_overloaded_methods()
    {
        var (output, diagnostics) = Run("""
            using System.Threading.Tasks;
            using BankGrains.Runtime;
            namespace Sample;
            public interface IBase : IGrain { Task<int> CountAsync(); }
            public interface IThing : IBase, IGrainWithStringKey
            {
                Task SetAsync(string? name, int value);
                Task SetAsync(decimal value);
                Task<System.Collections.Generic.List<string>> ListAsync(int? limit = null);
            }
            """);

        Assert.Empty(diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        var generated = Assert.Single(output.SyntaxTrees, t => t.FilePath.EndsWith(".g.cs")).ToString();
        Assert.Contains("Proxy_Sample_IThing", generated);
        Assert.Contains("Proxy_Sample_IBase", generated);
        Assert.Contains("\"CountAsync\"", generated); // inherited methods are part of IThing's table
        Assert.Contains("GrainInterfaceCatalogAttribute", generated);
    }

    [Theory]
    [InlineData("int Count { get; }", "only declare methods")]
    [InlineData("Task<T> GetAsync<T>();", "generic methods")]
    [InlineData("int Get();", "must return Task or Task<T>")]
    [InlineData("ValueTask GetAsync();", "must return Task or Task<T>")]
    [InlineData("Task GetAsync(ref int x);", "ref, out and in")]
    [InlineData("Task LinkAsync(IBad other);", "grain references cannot be passed")]
    [InlineData("Task<System.Collections.Generic.List<IBad>> FriendsAsync();", "grain references cannot be passed")]
    public void Reports_BG0001_for_what_a_grain_interface_may_not_declare(string member, string reason)
    {
        var (_, diagnostics) = Run($$"""
            using System.Threading.Tasks;
            using BankGrains.Runtime;
            namespace Sample;
            public interface IBad : IGrainWithGuidKey { {{member}} }
            """);

        var error = Assert.Single(diagnostics, d => d.Id == "BG0001");
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Contains(reason, error.GetMessage());
    }

    [Fact]
    public void Ignores_interfaces_that_are_not_grains_and_writes_nothing_without_grains()
    {
        var (output, diagnostics) = Run("""
            using System.Threading.Tasks;
            namespace Sample;
            public interface IPlain { Task RunAsync(); }
            """);

        Assert.Empty(diagnostics);
        Assert.DoesNotContain(output.SyntaxTrees, t => t.FilePath.EndsWith(".g.cs"));
    }

    private static (Compilation Output, ImmutableArray<Diagnostic> Diagnostics) Run(string source)
    {
        var references = AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => !a.IsDynamic && !string.IsNullOrEmpty(a.Location))
            .Select(a => MetadataReference.CreateFromFile(a.Location))
            .Append(MetadataReference.CreateFromFile(typeof(IGrain).Assembly.Location));
        var compilation = CSharpCompilation.Create("Sample",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

        GeneratorDriver driver = CSharpGeneratorDriver.Create(new GrainReferenceGenerator());
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);

        // What the generator wrote must compile with the rest of the project.
        var compileErrors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error && d.Id != "BG0001").ToList();
        Assert.True(generatorDiagnostics.Any(d => d.Id == "BG0001") || compileErrors.Count == 0,
            string.Join(Environment.NewLine, compileErrors));
        return (output, generatorDiagnostics);
    }
}
