using System.Globalization;
using System.Text.Json;

namespace BankGrains.Runtime.Membership;

/// <summary>
/// The stored form of a suspicion list: <c>[{"suspecter":"10.0.0.5:11111@42","at":"2025-01-31T12:00:00.123456Z"}]</c>.
/// Written by hand rather than by a serializer's settings, because it is a database format that other
/// tools (and older silos) read: it must not change when serializer options do.
/// </summary>
internal static class SuspicionsJson
{
    private const string AtFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    public static string Serialize(IReadOnlyList<Suspicion> suspicions)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var suspicion in suspicions)
            {
                writer.WriteStartObject();
                writer.WriteString("suspecter", suspicion.Suspecter.ToString());
                writer.WriteString("at", suspicion.At.UtcDateTime.ToString(AtFormat, CultureInfo.InvariantCulture));
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public static IReadOnlyList<Suspicion> Deserialize(string json)
    {
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"Stored suspicions are not a JSON array: {json}");
        var suspicions = new List<Suspicion>(document.RootElement.GetArrayLength());
        foreach (var item in document.RootElement.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("suspecter", out var suspecter) || suspecter.ValueKind != JsonValueKind.String
                || !SiloAddress.TryParse(suspecter.GetString(), out var silo)
                || !item.TryGetProperty("at", out var at) || at.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParseExact(at.GetString(), AtFormat, CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
                throw new InvalidDataException($"A stored suspicion is malformed: {item.GetRawText()}");
            suspicions.Add(new Suspicion(silo, time));
        }
        return suspicions;
    }
}
