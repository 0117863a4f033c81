using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace BankGrains.CodeGen;

/// <summary>
/// Writes, at compile time, a reference proxy and a method table for every grain interface declared
/// in the compilation (any interface that extends BankGrains.Runtime.IGrain). The proxy turns each
/// call into a runtime message; the method table lets a silo invoke the method on an activation
/// without reflection. One catalog per assembly, found by the runtime through an assembly attribute.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class GrainReferenceGenerator : IIncrementalGenerator
{
    private const string GrainMarker = "BankGrains.Runtime.IGrain";

    private static readonly DiagnosticDescriptor UnsupportedMember = new(
        id: "BG0001",
        title: "Unsupported grain interface member",
        messageFormat: "Grain interface member '{0}' is not supported: {1}",
        category: "BankGrains.CodeGen",
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var interfaces = context.SyntaxProvider.CreateSyntaxProvider(
                predicate: static (node, _) => node is InterfaceDeclarationSyntax,
                transform: static (ctx, ct) => ctx.SemanticModel.GetDeclaredSymbol((InterfaceDeclarationSyntax)ctx.Node, ct) as INamedTypeSymbol)
            .Where(static symbol => symbol is not null && IsGrainInterface(symbol))
            .Select(static (symbol, _) => Describe(symbol!))
            .Collect();

        var withAssembly = interfaces.Combine(context.CompilationProvider.Select(static (c, _) => c.AssemblyName ?? "Assembly"));
        context.RegisterSourceOutput(withAssembly, static (spc, pair) => Emit(spc, pair.Left, pair.Right));
    }

    private static bool IsGrainInterface(INamedTypeSymbol symbol)
    {
        var own = symbol.ToDisplayString();
        if (own.StartsWith("BankGrains.Runtime.IGrain", System.StringComparison.Ordinal) && symbol.GetMembers().Length == 0)
            return false; // the marker interfaces themselves
        return symbol.AllInterfaces.Any(i => i.ToDisplayString() == GrainMarker);
    }

    private static readonly SymbolDisplayFormat TypeOfFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

    private static readonly SymbolDisplayFormat SignatureFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.UseSpecialTypes | SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static InterfaceModel Describe(INamedTypeSymbol iface)
    {
        var errors = new List<ErrorModel>();
        var methods = new List<MethodModel>();
        if (iface.IsGenericType)
            errors.Add(new ErrorModel(iface.ToDisplayString(), "generic grain interfaces are not supported", iface.Locations.FirstOrDefault()));

        // Own members first, then inherited grain interfaces, so indices are stable for a given declaration.
        var declaring = new[] { iface }.Concat(iface.AllInterfaces.Where(i => i.AllInterfaces.Any(b => b.ToDisplayString() == GrainMarker) || i.ToDisplayString() == GrainMarker));
        foreach (var type in declaring)
        {
            foreach (var member in type.GetMembers())
            {
                if (member is not IMethodSymbol method || method.MethodKind != MethodKind.Ordinary)
                {
                    if (member is IPropertySymbol or IEventSymbol)
                        errors.Add(new ErrorModel(member.ToDisplayString(), "grain interfaces may only declare methods", member.Locations.FirstOrDefault()));
                    continue;
                }
                if (method.IsStatic) continue;
                if (method.IsGenericMethod)
                {
                    errors.Add(new ErrorModel(method.ToDisplayString(), "generic methods are not supported", method.Locations.FirstOrDefault()));
                    continue;
                }
                var returnType = method.ReturnType as INamedTypeSymbol;
                var returnName = returnType?.ConstructedFrom.ToDisplayString();
                string? resultType = null;
                if (returnName == "System.Threading.Tasks.Task<TResult>")
                    resultType = returnType!.TypeArguments[0].ToDisplayString(SignatureFormat);
                else if (returnName != "System.Threading.Tasks.Task")
                {
                    errors.Add(new ErrorModel(method.ToDisplayString(), "grain methods must return Task or Task<T>", method.Locations.FirstOrDefault()));
                    continue;
                }
                if (method.Parameters.Any(p => p.RefKind != RefKind.None))
                {
                    errors.Add(new ErrorModel(method.ToDisplayString(), "ref, out and in parameters are not supported", method.Locations.FirstOrDefault()));
                    continue;
                }
                // A reference would work inside one silo and fail between silos (it has no wire form yet): refuse it everywhere.
                if (method.Parameters.Any(p => MentionsGrain(p.Type)) || (returnType is not null && MentionsGrain(returnType)))
                {
                    errors.Add(new ErrorModel(method.ToDisplayString(), "grain references cannot be passed as arguments or results; pass the grain's key", method.Locations.FirstOrDefault()));
                    continue;
                }
                methods.Add(new MethodModel(
                    DeclaringInterface: type.ToDisplayString(TypeOfFormat),
                    Name: method.Name,
                    ResultType: resultType,
                    ResultTypeOf: resultType is null ? null : returnType!.TypeArguments[0].ToDisplayString(TypeOfFormat),
                    Parameters: method.Parameters.Select(p => new ParameterModel(
                        Name: "@" + p.Name,
                        Type: p.Type.ToDisplayString(SignatureFormat),
                        TypeOf: p.Type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(TypeOfFormat))).ToArray()));
            }
        }

        var fullName = iface.ToDisplayString(TypeOfFormat);
        var proxyName = "Proxy_" + Sanitize(iface.ToDisplayString());
        return new InterfaceModel(fullName, proxyName, methods.ToArray(), errors.ToArray());
    }

    private static bool MentionsGrain(ITypeSymbol type) => type switch
    {
        INamedTypeSymbol named when named.TypeKind == TypeKind.Interface
            && (named.ToDisplayString() == GrainMarker || named.AllInterfaces.Any(i => i.ToDisplayString() == GrainMarker)) => true,
        INamedTypeSymbol named => named.TypeArguments.Any(MentionsGrain),
        IArrayTypeSymbol array => MentionsGrain(array.ElementType),
        _ => false,
    };

    private static string Sanitize(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var c in name) sb.Append(char.IsLetterOrDigit(c) ? c : '_');
        return sb.ToString();
    }

    private static void Emit(SourceProductionContext spc, ImmutableArray<InterfaceModel> interfaces, string assemblyName)
    {
        var distinct = interfaces.GroupBy(i => i.FullName).Select(g => g.First()).OrderBy(i => i.FullName, System.StringComparer.Ordinal).ToList();
        if (distinct.Count == 0) return;

        var sb = new StringBuilder();
        sb.AppendLine("// <auto-generated/> by BankGrains.CodeGen");
        sb.AppendLine("#nullable enable");
        sb.AppendLine("#pragma warning disable CS1591");
        var catalogName = "GrainInterfaceCatalog_" + Sanitize(assemblyName);
        sb.AppendLine($"[assembly: global::BankGrains.Runtime.CodeGeneration.GrainInterfaceCatalogAttribute(typeof(global::BankGrains.Generated.{catalogName}))]");
        sb.AppendLine("namespace BankGrains.Generated");
        sb.AppendLine("{");

        foreach (var iface in distinct)
        {
            foreach (var error in iface.Errors)
                spc.ReportDiagnostic(Diagnostic.Create(UnsupportedMember, error.Location, error.Member, error.Reason));
            if (iface.Errors.Length > 0) continue;
            EmitProxy(sb, iface);
        }

        sb.AppendLine($"    internal sealed class {catalogName} : global::BankGrains.Runtime.CodeGeneration.IGrainInterfaceCatalog");
        sb.AppendLine("    {");
        sb.AppendLine("        public global::System.Collections.Generic.IReadOnlyList<global::BankGrains.Runtime.CodeGeneration.GrainInterfaceDescription> Interfaces { get; } = new global::BankGrains.Runtime.CodeGeneration.GrainInterfaceDescription[]");
        sb.AppendLine("        {");
        foreach (var iface in distinct.Where(i => i.Errors.Length == 0))
            EmitDescription(sb, iface);
        sb.AppendLine("        };");
        sb.AppendLine("    }");
        sb.AppendLine("}");
        spc.AddSource(catalogName + ".g.cs", sb.ToString());
    }

    private static void EmitProxy(StringBuilder sb, InterfaceModel iface)
    {
        sb.AppendLine($"    internal sealed class {iface.ProxyName} : global::BankGrains.Runtime.GrainReference, {iface.FullName}");
        sb.AppendLine("    {");
        sb.AppendLine($"        public {iface.ProxyName}(global::BankGrains.Runtime.CodeGeneration.GrainReferenceArgs args) : base(args) {{ }}");
        for (var i = 0; i < iface.Methods.Length; i++)
        {
            var m = iface.Methods[i];
            var parameters = string.Join(", ", m.Parameters.Select(p => $"{p.Type} {p.Name}"));
            var args = m.Parameters.Length == 0
                ? "global::System.Array.Empty<object?>()"
                : "new object?[] { " + string.Join(", ", m.Parameters.Select(p => p.Name)) + " }";
            var returnType = m.ResultType is null ? "global::System.Threading.Tasks.Task" : $"global::System.Threading.Tasks.Task<{m.ResultType}>";
            var call = m.ResultType is null ? $"InvokeAsync({i}, {args})" : $"InvokeAsync<{m.ResultType}>({i}, {args})";
            sb.AppendLine($"        {returnType} {m.DeclaringInterface}.{m.Name}({parameters}) => {call};");
        }
        sb.AppendLine("    }");
    }

    private static void EmitDescription(StringBuilder sb, InterfaceModel iface)
    {
        sb.AppendLine($"            new global::BankGrains.Runtime.CodeGeneration.GrainInterfaceDescription(typeof({iface.FullName}), static args => new {iface.ProxyName}(args), new global::BankGrains.Runtime.CodeGeneration.GrainMethodDescription[]");
        sb.AppendLine("            {");
        for (var i = 0; i < iface.Methods.Length; i++)
        {
            var m = iface.Methods[i];
            var types = m.Parameters.Length == 0
                ? "global::System.Type.EmptyTypes"
                : "new global::System.Type[] { " + string.Join(", ", m.Parameters.Select(p => $"typeof({p.TypeOf})")) + " }";
            var callArgs = string.Join(", ", m.Parameters.Select((p, k) => $"({p.Type})a[{k}]!"));
            var call = $"(({m.DeclaringInterface})g).{m.Name}({callArgs})";
            var invoke = m.ResultType is null
                ? $"static async (g, a) => {{ await {call}; return null; }}"
                : $"static async (g, a) => (object?)await {call}";
            var resultTypeOf = m.ResultTypeOf is null ? "null" : $"typeof({m.ResultTypeOf})";
            sb.AppendLine($"                new global::BankGrains.Runtime.CodeGeneration.GrainMethodDescription({i}, typeof({m.DeclaringInterface}), \"{m.Name}\", {types}, {resultTypeOf}, {invoke}),");
        }
        sb.AppendLine("            }),");
    }

    private sealed record InterfaceModel(string FullName, string ProxyName, MethodModel[] Methods, ErrorModel[] Errors);

    private sealed record MethodModel(string DeclaringInterface, string Name, string? ResultType, string? ResultTypeOf, ParameterModel[] Parameters);

    private sealed record ParameterModel(string Name, string Type, string TypeOf);

    private sealed record ErrorModel(string Member, string Reason, Location? Location);
}
