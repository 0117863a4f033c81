using System.Text.Json;
using BankGrains.Runtime.Serialization;

namespace BankGrains.Runtime.Cluster;

/// <summary>
/// Silo-to-silo calls that address a silo rather than a grain. They share the transport with grain
/// calls; the first byte tells them apart (grain messages start with their format version, 1).
/// </summary>
internal static class SystemCalls
{
    public const byte Marker = 0x10;
    private const byte AwaitSettledOp = 1;
    private const byte StatsOp = 2;

    public static byte[] AwaitSettled(long viewVersion)
    {
        var payload = new byte[10];
        payload[0] = Marker;
        payload[1] = AwaitSettledOp;
        BitConverter.TryWriteBytes(payload.AsSpan(2), viewVersion);
        return payload;
    }

    public static byte[] Stats() => [Marker, StatsOp];

    public static bool IsSystemCall(ReadOnlySpan<byte> payload) => payload.Length >= 2 && payload[0] == Marker;

    /// <summary>Runs a system call against this silo and encodes the answer.</summary>
    public static async ValueTask<ReadOnlyMemory<byte>> HandleAsync(ReadOnlyMemory<byte> payload, HandoffCoordinator handoff, Func<SiloStats> stats)
    {
        switch (payload.Span[1])
        {
            case AwaitSettledOp:
                var settled = await handoff.AwaitSettledAsync(BitConverter.ToInt64(payload.Span[2..])).ConfigureAwait(false);
                return BitConverter.GetBytes(settled);
            case StatsOp:
                return JsonSerializer.SerializeToUtf8Bytes(stats(), GrainJson.Options);
            default:
                throw new InvalidDataException($"Unknown system call {payload.Span[1]}.");
        }
    }

    public static SiloStats ReadStats(ReadOnlyMemory<byte> response) =>
        JsonSerializer.Deserialize<SiloStats>(response.Span, GrainJson.Options) ?? new SiloStats(new Dictionary<string, int>(), 0);
}

/// <summary>What a silo reports about itself to the management view.</summary>
public sealed record SiloStats(IReadOnlyDictionary<string, int> ActivationsByGrainType, int Reminders);
