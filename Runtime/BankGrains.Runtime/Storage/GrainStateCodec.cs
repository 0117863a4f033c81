using System.Globalization;
using System.Text.Json;
using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Serialization;

namespace BankGrains.Runtime.Storage;

/// <summary>
/// What every grain-storage provider shares: argument checks, ETag text, the JSON payload and the
/// conflict exception. Keeping it in one place keeps the providers' observable behaviour identical.
/// </summary>
internal static class GrainStateCodec
{
    public static void Validate<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        ArgumentNullException.ThrowIfNull(grainState);
        // default(GrainId) bypasses the constructor's checks and would be stored under "/" otherwise.
        if (grainId.Type is null) throw new ArgumentException("A default GrainId cannot be stored.", nameof(grainId));
    }

    public static void ValidateServiceId(string serviceId)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceId);
    }

    public static string FormatETag(long version) => version.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// False for anything that is not a version this family of providers hands out; such an ETag can
    /// never match a stored version, so the caller reports a conflict rather than an argument error.
    /// </summary>
    public static bool TryParseETag(string eTag, out long version)
        => long.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out version) && version > 0;

    public static byte[] SerializeToUtf8<T>(T state) => GrainJson.Serialize(state, typeof(T));

    // Straight to text and back: every transaction serialises each state it changes, and a round trip
    // through a UTF-8 array cost an extra array per state.
    public static string Serialize<T>(T state) => JsonSerializer.Serialize(state, typeof(T), GrainJson.Options);

    public static T Deserialize<T>(ReadOnlySpan<byte> utf8) => GrainJson.Deserialize<T>(utf8)!;

    public static T Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, GrainJson.Options)!;

    /// <summary>The state a reader gets for a missing or cleared record: a fresh <c>new T()</c> where possible.</summary>
    public static T DefaultState<T>() => DefaultStateFactory<T>.HasParameterlessConstructor ? Activator.CreateInstance<T>() : default!;

    /// <param name="storedVersion">What storage holds now; null when there is no row at all.</param>
    /// <param name="storedIsTombstone">True when the stored row is a cleared record.</param>
    public static InconsistentStateException Conflict(
        string operation, string stateName, GrainId grainId, string? expectedETag, long? storedVersion, bool storedIsTombstone)
    {
        var expected = expectedETag is null ? "no record (ETag null)" : $"version {expectedETag}";
        var stored = storedVersion switch
        {
            null => "no record",
            { } v when storedIsTombstone => $"version {FormatETag(v)} (cleared)",
            { } v => $"version {FormatETag(v)}",
        };
        var message = $"{operation} of state '{stateName}' of grain '{grainId}' refused: the caller expected {expected} but storage holds {stored}.";
        return new InconsistentStateException(message, storedVersion is { } s ? FormatETag(s) : null, expectedETag);
    }


    private static class DefaultStateFactory<T>
    {
        public static readonly bool HasParameterlessConstructor =
            typeof(T).IsValueType || (!typeof(T).IsAbstract && typeof(T).GetConstructor(Type.EmptyTypes) is not null);
    }
}
