using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// The only place the transport rents and returns pooled memory (<see cref="ArrayPool{T}.Shared"/>). Ownership
/// rules: a rented array has exactly one owner at a time and is returned exactly once, by its last owner, after the
/// last read of it. In the transport the only rented arrays are the copies of incoming request payloads that
/// <see cref="ListenerConnection"/> hands to the handler; the owner is the dispatch until the response frame is
/// queued, then the write loop (which returns it after copying the frame into the pipe, or when it drops the frame).
/// Nothing rented here ever reaches a caller of <see cref="PeerConnection.SendRequestAsync"/>: responses are fresh arrays.
/// </summary>
internal static class FrameBuffers
{
    private static BufferAudit? s_audit;

    /// <summary>
    /// Tests only: checks every rent and return from now on (returned twice, handed out while still owned) and
    /// poisons returned arrays, so a read after the return shows up as wrong bytes at once. Stays on once enabled.
    /// </summary>
    internal static BufferAudit EnableAudit()
    {
        Interlocked.CompareExchange(ref s_audit, new BufferAudit(), null);
        return s_audit;
    }

    public static byte[] Rent(int minimumLength)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(minimumLength);
        Volatile.Read(ref s_audit)?.Rented(buffer);
        return buffer;
    }

    public static void Return(byte[] buffer)
    {
        // An audited double return is recorded and not repeated, so the pool stays sound for everyone else.
        if (Volatile.Read(ref s_audit) is { } audit && !audit.Returning(buffer)) return;
        ArrayPool<byte>.Shared.Return(buffer);
    }
}

/// <summary>Bookkeeping of <see cref="FrameBuffers.EnableAudit"/>.</summary>
internal sealed class BufferAudit
{
    /// <summary>What a returned array is filled with while audited.</summary>
    public const byte Poison = 0xDD;

    private static readonly object Returned = new();
    private readonly ConcurrentDictionary<byte[], byte> _owned = new(ReferenceEqualityComparer.Instance);
    private readonly ConditionalWeakTable<byte[], object> _returned = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private long _rents;
    private long _returns;

    public long Rents => Interlocked.Read(ref _rents);

    public long Returns => Interlocked.Read(ref _returns);

    /// <summary>Arrays rented by the transport and not returned yet.</summary>
    public int Outstanding => _owned.Count;

    public IReadOnlyCollection<string> Violations => _violations;

    internal void Rented(byte[] buffer)
    {
        Interlocked.Increment(ref _rents);
        _returned.Remove(buffer);
        // The pool handed out an array the transport still owns: somebody returned it while we held it.
        if (!_owned.TryAdd(buffer, 0))
            _violations.Enqueue($"The pool handed out an array of {buffer.Length} bytes that the transport still owns.");
    }

    /// <summary>False when the array was already returned (it must not go back to the pool again).</summary>
    internal bool Returning(byte[] buffer)
    {
        Interlocked.Increment(ref _returns);
        if (!_owned.TryRemove(buffer, out _))
        {
            // Rented before the audit started (fine), or already returned (a bug).
            if (!_returned.TryGetValue(buffer, out _)) return true;
            _violations.Enqueue($"An array of {buffer.Length} bytes was returned to the pool twice.");
            return false;
        }

        buffer.AsSpan().Fill(Poison);
        _returned.AddOrUpdate(buffer, Returned);
        return true;
    }
}
