using System.Collections.Concurrent;
using System.Reflection;

namespace BankGrains.Runtime.Serialization;

/// <summary>
/// Isolates call arguments and results between caller and callee, so neither can change the other's
/// objects: immutable values pass as they are; anything else is deep-copied through the same JSON
/// form the network uses.
/// </summary>
public static class ArgumentCopier
{
    private static readonly ConcurrentDictionary<Type, bool> ImmutableTypes = new();

    public static object?[] CopyArguments(IReadOnlyList<Type> parameterTypes, object?[] arguments)
    {
        object?[]? copy = null;
        for (var i = 0; i < arguments.Length; i++)
        {
            var value = arguments[i];
            if (value is null || IsImmutable(value.GetType())) continue;
            copy ??= (object?[])arguments.Clone();
            copy[i] = DeepCopy(value, parameterTypes[i]);
        }
        return copy ?? arguments;
    }

    public static object? Copy(object? value, Type? declaredType)
        => value is null || IsImmutable(value.GetType()) ? value : DeepCopy(value, declaredType ?? value.GetType());

    private static object? DeepCopy(object value, Type declaredType)
    {
        var type = declaredType == typeof(object) || declaredType.IsInterface || declaredType.IsAbstract ? value.GetType() : declaredType;
        return GrainJson.Deserialize(GrainJson.Serialize(value, type), type);
    }

    public static bool IsImmutable(Type type) => ImmutableTypes.GetOrAdd(type, static t => Compute(t));

    private static bool Compute(Type type)
    {
        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(Guid)
            || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(TimeSpan) || type == typeof(DateOnly)
            || type == typeof(TimeOnly) || type == typeof(GrainId) || typeof(GrainReference).IsAssignableFrom(type))
            return true;
        if (Nullable.GetUnderlyingType(type) is { } inner) return IsImmutable(inner);
        return type.IsDefined(typeof(ImmutableAttribute), inherit: false);
    }
}
