using BankGrains.Runtime.Transactions;

namespace BankGrains.Api.Movements;

/// <summary>
/// How long a movement can still be running or settling: twice the transaction timeout (an attempt, then
/// the participants' own resolution after its deadline) plus a margin for clocks and queues. An
/// idempotency claim is leased this long, and an unknown transfer id younger than this is never resolved
/// as aborted by a read.
/// </summary>
internal static class SettlementHorizon
{
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(5);

    public static TimeSpan Of(TransactionOptions options) => 2 * options.Timeout + Margin;

    /// <summary>When a version 7 GUID was created (its first 48 bits are Unix milliseconds); null for other GUIDs.</summary>
    public static DateTimeOffset? CreatedAt(Guid id)
    {
        if (id.Version != 7) return null;
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        long milliseconds = 0;
        for (var i = 0; i < 6; i++) milliseconds = (milliseconds << 8) | bytes[i];
        return DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
    }
}
