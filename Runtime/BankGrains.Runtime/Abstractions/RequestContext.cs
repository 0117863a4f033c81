using System.Collections.Immutable;

namespace BankGrains.Runtime;

/// <summary>
/// Ambient values (correlation ids, caller identity) that travel with every grain call made from
/// this async flow, and are visible to the callee. Values must be immutable and serialisable.
/// </summary>
public static class RequestContext
{
    private static readonly AsyncLocal<ImmutableDictionary<string, string>?> Current = new();

    public static void Set(string key, string value) =>
        Current.Value = (Current.Value ?? ImmutableDictionary<string, string>.Empty).SetItem(key, value);

    public static string? Get(string key) => Current.Value is { } values && values.TryGetValue(key, out var v) ? v : null;

    public static void Remove(string key)
    {
        if (Current.Value is { } values) Current.Value = values.Remove(key);
    }

    public static void Clear() => Current.Value = null;

    internal static ImmutableDictionary<string, string>? Export() => Current.Value is { Count: > 0 } values ? values : null;

    internal static void Import(ImmutableDictionary<string, string>? values) => Current.Value = values;
}
