using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Serialization;

namespace BankGrains.Runtime.Membership;

/// <summary>
/// The identity of one silo incarnation: IP address, port and generation. A silo restarted on the
/// same endpoint gets a new generation, so it is a different silo (a new membership row) and can
/// never be mistaken for its dead predecessor. Text form: <c>127.0.0.1:11111@123456</c>
/// (IPv6: <c>[::1]:11111@123456</c>); JSON is that string.
/// </summary>
[JsonConverter(typeof(SiloAddressJsonConverter))]
public readonly record struct SiloAddress : IComparable<SiloAddress>, IParsable<SiloAddress>
{
    // Generations count seconds from here, so they fit an int until 2092.
    private static readonly DateTimeOffset GenerationEpoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static int s_lastGeneration;

    /// <param name="host">An IP literal (IPv4 dotted quad or IPv6); IPv6 is kept in its canonical form so equal addresses compare equal.</param>
    /// <param name="port">1–65535.</param>
    /// <param name="generation">Positive; see <see cref="NewGeneration"/>.</param>
    public SiloAddress(string host, int port, int generation)
    {
        Host = NormalizeHost(host) ?? throw new ArgumentException($"'{host}' is not an IP address literal (such as 10.0.0.5 or ::1).", nameof(host));
        if (port is < 1 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "A silo port is 1–65535.");
        if (generation < 1) throw new ArgumentOutOfRangeException(nameof(generation), generation, "A silo generation is positive.");
        Port = port;
        Generation = generation;
    }

    /// <summary>The IP literal; null only for <c>default(SiloAddress)</c>, which no table accepts.</summary>
    public string Host { get; }

    public int Port { get; }

    public int Generation { get; }

    /// <summary>True for <c>default(SiloAddress)</c>, the one value not built by the constructor.</summary>
    public bool IsDefault => Host is null;

    public void Deconstruct(out string host, out int port, out int generation)
    {
        host = Host;
        port = Port;
        generation = Generation;
    }

    /// <summary>Same host and port, whatever the generation: an earlier or later incarnation of one endpoint.</summary>
    public bool IsSameEndpoint(SiloAddress other) => string.Equals(Host, other.Host, StringComparison.Ordinal) && Port == other.Port;

    /// <summary>
    /// A generation for a silo starting now: seconds since 2024-01-01 UTC, but always above any this
    /// process handed out before, so a silo restarted in-process within the same second still gets a
    /// new one. A restart in another process in the same second can collide; the table then refuses the
    /// insert (duplicate row) and the caller takes the next generation.
    /// </summary>
    public static int NewGeneration() => NewGeneration(DateTimeOffset.UtcNow);

    internal static int NewGeneration(DateTimeOffset now)
    {
        var seconds = (now.UtcTicks - GenerationEpoch.UtcTicks) / TimeSpan.TicksPerSecond;
        var fromClock = (int)Math.Clamp(seconds, 1, int.MaxValue);
        while (true)
        {
            var last = Volatile.Read(ref s_lastGeneration);
            var next = Math.Max(fromClock, last + 1);
            if (Interlocked.CompareExchange(ref s_lastGeneration, next, last) == last) return next;
        }
    }

    public override string ToString()
    {
        var host = Host is not null && Host.Contains(':') ? $"[{Host}]" : Host;
        return string.Create(CultureInfo.InvariantCulture, $"{host}:{Port}@{Generation}");
    }

    /// <summary>Orders by host text (ordinal), then port, then generation: the same order in every table.</summary>
    public int CompareTo(SiloAddress other)
    {
        var c = string.CompareOrdinal(Host, other.Host);
        if (c != 0) return c;
        c = Port.CompareTo(other.Port);
        return c != 0 ? c : Generation.CompareTo(other.Generation);
    }

    public static SiloAddress Parse(string s) => Parse(s, provider: null);

    public static SiloAddress Parse(string s, IFormatProvider? provider)
    {
        ArgumentNullException.ThrowIfNull(s);
        return TryParse(s, provider, out var result)
            ? result
            : throw new FormatException($"'{s}' is not a silo address (expected ip:port@generation, such as 127.0.0.1:11111@123456).");
    }

    public static bool TryParse([NotNullWhen(true)] string? s, out SiloAddress result) => TryParse(s, provider: null, out result);

    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out SiloAddress result)
    {
        result = default;
        if (s is null) return false;
        var at = s.LastIndexOf('@');
        if (at < 0) return false;
        var endpoint = s.AsSpan(0, at);
        string host;
        ReadOnlySpan<char> portText;
        if (endpoint.StartsWith("["))
        {
            var close = endpoint.IndexOf("]:");
            if (close < 0) return false;
            host = endpoint[1..close].ToString();
            portText = endpoint[(close + 2)..];
        }
        else
        {
            var colon = endpoint.LastIndexOf(':');
            if (colon < 0) return false;
            host = endpoint[..colon].ToString();
            portText = endpoint[(colon + 1)..];
        }

        if (NormalizeHost(host) is not { } normalized
            || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535
            || !int.TryParse(s.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var generation) || generation < 1)
            return false;
        result = new SiloAddress(normalized, port, generation);
        return true;
    }

    /// <summary>
    /// The canonical text of an IP literal, or null. IPv4 must already be canonical: IPAddress also
    /// accepts "127.1", "0x7f.0.0.1" and octal "010.0.0.1", which would make one silo look like two.
    /// </summary>
    private static string? NormalizeHost(string? host)
    {
        if (string.IsNullOrEmpty(host) || !IPAddress.TryParse(host, out var ip)) return null;
        return ip.AddressFamily switch
        {
            AddressFamily.InterNetwork => ip.ToString() == host ? host : null,
            AddressFamily.InterNetworkV6 when ip.ScopeId == 0 && !host.Contains('%') => ip.ToString(),
            _ => null,
        };
    }
}
