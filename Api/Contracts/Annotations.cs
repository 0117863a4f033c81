namespace BankGrains.Api.Contracts;

/// <summary>
/// Marks a string field of a request with an example value, so that a client sending the wrong JSON type
/// there (a number instead of "100.00") is told what to send.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class JsonStringExampleAttribute(string example, string note = "") : Attribute
{
    public string Example { get; } = example;

    /// <summary>Appended to the message after the example, for example " (amounts are never JSON numbers)".</summary>
    public string Note { get; } = note;
}

/// <summary>Marks a request object type with an example, used when a client sends something else in its place.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class JsonObjectExampleAttribute(string example) : Attribute
{
    public string Example { get; } = example;
}
