using System.Reflection;
using System.Text.Json;
using BankGrains.Runtime.Serialization;

namespace BankGrains.Runtime.Messaging;

/// <summary>
/// Carries an exception from the silo that threw it to the caller: its type, message and the simple
/// properties declared on its type (a bank error's code, say). The caller gets the same exception
/// type back when it can be rebuilt through a constructor whose parameters are "message" and those
/// properties; otherwise a <see cref="RemoteGrainException"/> naming the original type.
/// </summary>
internal static class ExceptionCodec
{
    public static void Write(BinaryWriter writer, Exception error)
    {
        var type = error.GetType();
        writer.Write(type.AssemblyQualifiedName ?? type.FullName ?? type.Name);
        writer.Write(error.Message);
        var properties = CarriedProperties(type)
            .Select(p => (p.Name, Value: p.GetValue(error)))
            .Where(p => p.Value is not null)
            .ToDictionary(p => p.Name, p => JsonSerializer.SerializeToElement(p.Value, p.Value!.GetType(), GrainJson.Options));
        writer.Write(JsonSerializer.Serialize(properties, GrainJson.Options));
    }

    public static Exception Read(BinaryReader reader)
    {
        var typeName = reader.ReadString();
        var message = reader.ReadString();
        var properties = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(reader.ReadString(), GrainJson.Options) ?? new();
        var type = Type.GetType(typeName, throwOnError: false);
        if (type is not null && typeof(Exception).IsAssignableFrom(type) && TryRebuild(type, message, properties) is { } rebuilt) return rebuilt;
        return new RemoteGrainException(typeName, message);
    }

    private static IEnumerable<PropertyInfo> CarriedProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.DeclaringType != typeof(Exception) && p.GetMethod is not null && p.GetIndexParameters().Length == 0 && IsSimple(p.PropertyType));

    private static bool IsSimple(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(Guid) || t == typeof(GrainId)
               || t == typeof(DateTimeOffset) || t == typeof(TimeSpan);
    }

    private static Exception? TryRebuild(Type type, string message, Dictionary<string, JsonElement> properties)
    {
        foreach (var constructor in type.GetConstructors().OrderByDescending(c => c.GetParameters().Length))
        {
            var parameters = constructor.GetParameters();
            var arguments = new object?[parameters.Length];
            var usable = true;
            for (var i = 0; i < parameters.Length && usable; i++)
            {
                var parameter = parameters[i];
                var property = properties.FirstOrDefault(p => string.Equals(p.Key, parameter.Name, StringComparison.OrdinalIgnoreCase));
                if (string.Equals(parameter.Name, "message", StringComparison.Ordinal) && parameter.ParameterType == typeof(string))
                    arguments[i] = message;
                else if (property.Key is not null)
                    arguments[i] = property.Value.Deserialize(parameter.ParameterType, GrainJson.Options);
                else if (parameter.HasDefaultValue)
                    arguments[i] = parameter.DefaultValue;
                else
                    usable = false;
            }
            if (usable && parameters.Any(p => p.Name == "message")) return (Exception)constructor.Invoke(arguments);
        }
        return null;
    }
}

/// <summary>A grain threw an exception of a type this process cannot rebuild; its type name and message are kept.</summary>
public sealed class RemoteGrainException(string originalType, string message) : Exception(message)
{
    public string OriginalType { get; } = originalType;
}
