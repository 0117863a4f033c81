using System.Text;

namespace BankGrains.Runtime.Placement;

/// <summary>
/// A hash that is the same in every process and on every machine (string.GetHashCode is randomised
/// per process, so silos and clients would disagree on owners). FNV-1a over UTF-8, then a 64-bit
/// finaliser so that similar keys ("silo#1", "silo#2") spread evenly over the ring.
/// </summary>
public static class StableHash
{
    public static ulong Of(string value)
    {
        Span<byte> buffer = value.Length <= 256 ? stackalloc byte[value.Length * 3] : new byte[Encoding.UTF8.GetMaxByteCount(value.Length)];
        var length = Encoding.UTF8.GetBytes(value, buffer);
        var hash = 14695981039346656037UL;
        foreach (var b in buffer[..length])
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return Mix(hash);
    }

    public static ulong Of(GrainId grainId) => Mix(Of(grainId.Type) ^ (Of(grainId.Key) * 0x9E3779B97F4A7C15UL));

    // MurmurHash3's fmix64: every input bit affects every output bit.
    private static ulong Mix(ulong k)
    {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdUL;
        k ^= k >> 33;
        k *= 0xc4ceb93fe53e87d1UL;
        k ^= k >> 33;
        return k;
    }
}
