using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace BankGrains.Runtime.Networking;

/// <summary>
/// The wire format. Every frame is
/// <c>[int32 LE frame length][byte kind][int64 LE correlation id][payload]</c>, where the frame length
/// counts everything after the length field itself: 1 + 8 + payload length. A frame length below 9 or
/// above the receiver's <see cref="TransportOptions.MaxFrameSize"/> is a protocol violation and the
/// receiver closes the connection.
/// </summary>
internal static class FrameCodec
{
    /// <summary>Bytes of the length prefix.</summary>
    public const int LengthPrefixSize = 4;

    /// <summary>Bytes counted in the frame length besides the payload: kind and correlation id.</summary>
    public const int FrameOverhead = 1 + 8;

    /// <summary>Bytes before the payload on the wire.</summary>
    public const int HeaderSize = LengthPrefixSize + FrameOverhead;

    /// <summary>The largest payload a frame may carry under <paramref name="maxFrameSize"/>.</summary>
    public static int MaxPayloadSize(int maxFrameSize) => maxFrameSize - FrameOverhead;

    /// <summary>Copies one frame into <paramref name="output"/> (no flush). Returns the bytes written.</summary>
    public static int Write(PipeWriter output, FrameKind kind, long correlationId, ReadOnlySpan<byte> payload)
    {
        var header = output.GetSpan(HeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(header, FrameOverhead + payload.Length);
        header[LengthPrefixSize] = (byte)kind;
        BinaryPrimitives.WriteInt64LittleEndian(header.Slice(LengthPrefixSize + 1), correlationId);
        output.Advance(HeaderSize);
        if (!payload.IsEmpty) output.Write(payload);
        return HeaderSize + payload.Length;
    }

    /// <summary>
    /// Takes one complete frame off the front of <paramref name="buffer"/>. Returns false, leaving the buffer
    /// as it was, when the frame is not complete yet. The payload is a slice of the buffer.
    /// </summary>
    /// <exception cref="InvalidDataException">The frame length is below the minimum or above <paramref name="maxFrameSize"/>.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out FrameKind kind, out long correlationId,
        out ReadOnlySequence<byte> payload)
    {
        kind = default;
        correlationId = 0;
        payload = default;
        if (buffer.Length < HeaderSize)
        {
            // Reject an oversize length as soon as the prefix is here, without waiting for the header.
            if (buffer.Length >= LengthPrefixSize) CheckLength(ReadLength(buffer), maxFrameSize);
            return false;
        }

        int length;
        if (buffer.FirstSpan.Length >= HeaderSize)
        {
            var span = buffer.FirstSpan;
            length = BinaryPrimitives.ReadInt32LittleEndian(span);
            CheckLength(length, maxFrameSize);
            kind = (FrameKind)span[LengthPrefixSize];
            correlationId = BinaryPrimitives.ReadInt64LittleEndian(span.Slice(LengthPrefixSize + 1));
        }
        else
        {
            Span<byte> header = stackalloc byte[HeaderSize];
            buffer.Slice(0, HeaderSize).CopyTo(header);
            length = BinaryPrimitives.ReadInt32LittleEndian(header);
            CheckLength(length, maxFrameSize);
            kind = (FrameKind)header[LengthPrefixSize];
            correlationId = BinaryPrimitives.ReadInt64LittleEndian(header.Slice(LengthPrefixSize + 1));
        }

        long total = LengthPrefixSize + (long)length;
        if (buffer.Length < total) return false;
        payload = buffer.Slice(HeaderSize, length - FrameOverhead);
        buffer = buffer.Slice(total);
        return true;
    }

    private static int ReadLength(ReadOnlySequence<byte> buffer)
    {
        if (buffer.FirstSpan.Length >= LengthPrefixSize) return BinaryPrimitives.ReadInt32LittleEndian(buffer.FirstSpan);
        Span<byte> prefix = stackalloc byte[LengthPrefixSize];
        buffer.Slice(0, LengthPrefixSize).CopyTo(prefix);
        return BinaryPrimitives.ReadInt32LittleEndian(prefix);
    }

    private static void CheckLength(int length, int maxFrameSize)
    {
        if (length < FrameOverhead)
            throw new InvalidDataException($"Invalid frame length {length} (the minimum is {FrameOverhead}).");
        if (length > maxFrameSize)
            throw new InvalidDataException($"Frame of {length} bytes exceeds the maximum frame size of {maxFrameSize} bytes.");
    }
}
