using System.Numerics;

namespace BankGrains.Bench;

/// <summary>
/// A log-linear latency histogram in the spirit of HdrHistogram: values (nanoseconds) below
/// 2 × <see cref="HalfBuckets"/> are exact; above, each power of two is split into
/// <see cref="HalfBuckets"/> buckets, so any recorded value is known to within 1/256 (0.4 %).
/// Fixed size (about 60 KB), whatever the number of calls; not thread-safe: one per caller, merged at the end.
/// </summary>
public sealed class LatencyHistogram
{
    private const int HalfBucketBits = 8;
    private const int HalfBuckets = 1 << HalfBucketBits;          // 256
    private const int MaxShift = 30;                               // top bucket covers values up to 2^39 ns (about 9 minutes)
    private const int BucketCount = 2 * HalfBuckets + MaxShift * HalfBuckets;

    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }

    public long MaxNanoseconds { get; private set; }

    public double TotalNanoseconds { get; private set; }

    public double MeanMs => Count == 0 ? 0 : TotalNanoseconds / Count / 1e6;

    public void Record(long nanoseconds)
    {
        if (nanoseconds < 0) nanoseconds = 0;
        _counts[IndexOf(nanoseconds)]++;
        Count++;
        TotalNanoseconds += nanoseconds;
        if (nanoseconds > MaxNanoseconds) MaxNanoseconds = nanoseconds;
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < BucketCount; i++) _counts[i] += other._counts[i];
        Count += other.Count;
        TotalNanoseconds += other.TotalNanoseconds;
        if (other.MaxNanoseconds > MaxNanoseconds) MaxNanoseconds = other.MaxNanoseconds;
    }

    /// <summary>The value at <paramref name="percentile"/> (0–100), in milliseconds: the upper edge of the bucket it falls in.</summary>
    public double PercentileMs(double percentile)
    {
        if (Count == 0) return 0;
        var rank = (long)Math.Ceiling(percentile / 100.0 * Count);
        if (rank < 1) rank = 1;
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return Math.Min(UpperEdgeOf(i), MaxNanoseconds) / 1e6;
        }
        return MaxNanoseconds / 1e6;
    }

    private static int IndexOf(long value)
    {
        if (value < 2 * HalfBuckets) return (int)value;
        var shift = BitOperations.Log2((ulong)value) - HalfBucketBits; // value >> shift is in [256, 511]
        if (shift > MaxShift) return BucketCount - 1;
        return 2 * HalfBuckets + (shift - 1) * HalfBuckets + (int)((value >> shift) - HalfBuckets);
    }

    private static long UpperEdgeOf(int index)
    {
        if (index < 2 * HalfBuckets) return index;
        var shift = (index - 2 * HalfBuckets) / HalfBuckets + 1;
        var sub = (index - 2 * HalfBuckets) % HalfBuckets + HalfBuckets;
        return ((long)(sub + 1) << shift) - 1;
    }
}
