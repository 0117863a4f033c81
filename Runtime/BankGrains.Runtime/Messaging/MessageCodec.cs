using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text.Json;
using BankGrains.Runtime.CodeGeneration;
using BankGrains.Runtime.Serialization;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Runtime.Messaging;

/// <summary>A request as it crosses the network: the message plus routing facts.</summary>
/// <param name="ViewVersion">The sender's membership view; a receiver behind it catches up before routing.</param>
/// <param name="Hops">How many silos forwarded it so far (bounded, so a disagreement cannot loop).</param>
public sealed record WireRequest(Message Message, long ViewVersion, int Hops);

/// <summary>What a silo answers to a request.</summary>
public enum ResponseStatus : byte
{
    /// <summary>The call ran; the result follows.</summary>
    Ok = 0,
    /// <summary>The call ran and threw; the exception follows.</summary>
    Error = 1,
    /// <summary>The call did not run here (this silo does not own the grain, or is stopping): safe to send again.</summary>
    Rejected = 2,
}

/// <summary>
/// The binary form of grain calls: a small header written field by field, and each argument and the
/// result as the JSON of its declared type (the same form state uses), so a message decodes into
/// exactly what the proxy sent.
/// </summary>
public static class MessageCodec
{
    private const byte FormatVersion = 1;

    public static byte[] EncodeRequest(WireRequest request)
    {
        var message = request.Message;
        var output = MessageBuffer.Start();
        var writer = output.Writer;
        writer.Write(FormatVersion);
        writer.Write(message.Target.Type);
        writer.Write(message.Target.Key);
        writer.Write(message.Method.Interface.Name);
        writer.Write((ushort)message.Method.Index);
        writer.Write(message.Deadline.ToUnixTimeMilliseconds());
        writer.Write(request.ViewVersion);
        writer.Write((byte)request.Hops);
        WriteTransaction(writer, message.Transaction);
        var context = message.RequestContext ?? ImmutableDictionary<string, string>.Empty;
        writer.Write(context.Count);
        foreach (var (key, value) in context)
        {
            writer.Write(key);
            writer.Write(value);
        }
        writer.Write(message.Arguments.Length);
        for (var i = 0; i < message.Arguments.Length; i++)
            output.WriteJson(message.Arguments[i], message.Method.ParameterTypes[i]);
        return output.Finish();
    }

    public static WireRequest DecodeRequest(ReadOnlyMemory<byte> payload, long messageId)
    {
        using var reader = Reader(payload);
        if (reader.ReadByte() != FormatVersion) throw new InvalidDataException("Unknown grain message format.");
        var target = new GrainId(reader.ReadString(), reader.ReadString());
        var interfaceName = reader.ReadString();
        if (!GrainInterfaceRegistry.TryGetByName(interfaceName, out var description))
            throw new InvalidDataException($"Grain interface '{interfaceName}' is not known to this process.");
        var method = description.Methods[reader.ReadUInt16()];
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
        var view = reader.ReadInt64();
        var hops = reader.ReadByte();
        var transaction = ReadTransaction(reader);
        var contextCount = reader.ReadInt32();
        ImmutableDictionary<string, string>? context = null;
        if (contextCount > 0)
        {
            var builder = ImmutableDictionary.CreateBuilder<string, string>();
            for (var i = 0; i < contextCount; i++) builder[reader.ReadString()] = reader.ReadString();
            context = builder.ToImmutable();
        }
        var arguments = new object?[reader.ReadInt32()];
        for (var i = 0; i < arguments.Length; i++)
            arguments[i] = ReadJson(reader, reader.ReadInt32(), method.ParameterTypes[i]);
        return new WireRequest(new Message(messageId, target, method, arguments, deadline, context, transaction), view, hops);
    }

    /// <param name="transaction">The callee's copy of the caller's transaction: who joined and what they recorded goes back.</param>
    public static byte[] EncodeResult(object? result, Type? resultType, TransactionInfo? transaction = null)
    {
        var output = MessageBuffer.Start();
        output.Writer.Write((byte)ResponseStatus.Ok);
        if (resultType is null) output.Writer.Write(-1);
        else output.WriteJson(result, resultType);
        WriteReply(output, transaction);
        return output.Finish();
    }

    public static byte[] EncodeError(Exception error, TransactionInfo? transaction = null)
    {
        var output = MessageBuffer.Start();
        output.Writer.Write((byte)ResponseStatus.Error);
        ExceptionCodec.Write(output.Writer, error);
        WriteReply(output, transaction);
        return output.Finish();
    }

    /// <summary>The request did not run on this silo; <paramref name="viewVersion"/> tells the sender how current the refusal is.</summary>
    public static byte[] EncodeRejection(long viewVersion, string reason)
    {
        var output = MessageBuffer.Start();
        output.Writer.Write((byte)ResponseStatus.Rejected);
        output.Writer.Write(viewVersion);
        output.Writer.Write(reason);
        return output.Finish();
    }

    /// <summary>Decodes a response: the result, or the exception to throw, or a rejection (with the responder's view).</summary>
    /// <param name="transaction">The caller's copy of its transaction, to merge the callee's reply into.</param>
    public static (ResponseStatus Status, object? Result, Exception? Error, long RejectedAtView) DecodeResponse(ReadOnlyMemory<byte> payload, Type? resultType,
        TransactionInfo? transaction = null)
    {
        using var reader = Reader(payload);
        var status = (ResponseStatus)reader.ReadByte();
        switch (status)
        {
            case ResponseStatus.Ok:
                var length = reader.ReadInt32();
                var result = length < 0 || resultType is null ? null : ReadJson(reader, length, resultType);
                ReadReply(reader, transaction);
                return (status, result, null, 0);
            case ResponseStatus.Error:
                var error = ExceptionCodec.Read(reader);
                ReadReply(reader, transaction);
                return (status, null, error, 0);
            case ResponseStatus.Rejected:
                var view = reader.ReadInt64();
                return (status, null, new InvalidOperationException(reader.ReadString()), view);
            default:
                throw new InvalidDataException($"Unknown response status {status}.");
        }
    }

    private static void WriteTransaction(BinaryWriter writer, TransactionInfo? transaction)
    {
        writer.Write(transaction is not null);
        if (transaction is null) return;
        WriteGuid(writer, transaction.Id);
        writer.Write(transaction.Attempt);
        WriteGuid(writer, transaction.Run);
        writer.Write(transaction.Priority);
        writer.Write(transaction.Deadline.UtcTicks);
        writer.Write(transaction.Coordinator);
    }

    private static TransactionInfo? ReadTransaction(BinaryReader reader)
    {
        if (!reader.ReadBoolean()) return null;
        var id = ReadGuid(reader);
        var attempt = reader.ReadInt32();
        var run = ReadGuid(reader);
        return new TransactionInfo(id, attempt, reader.ReadInt64(), new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero), reader.ReadString(), run);
    }

    // Guid.ToByteArray's layout, without an array per id.
    private static void WriteGuid(BinaryWriter writer, Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes);
        writer.Write(bytes);
    }

    private static Guid ReadGuid(BinaryReader reader)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (reader.Read(bytes) != bytes.Length) throw new EndOfStreamException("A grain message ends inside a transaction id.");
        return new Guid(bytes);
    }

    private static void WriteReply(MessageBuffer output, TransactionInfo? transaction)
    {
        output.Writer.Write(transaction is not null);
        if (transaction is not null) output.WriteJson(transaction.ToReply(), typeof(TransactionReply));
    }

    private static void ReadReply(BinaryReader reader, TransactionInfo? transaction)
    {
        // Older senders and rejections carry no reply.
        if (reader.BaseStream.Position >= reader.BaseStream.Length || !reader.ReadBoolean()) return;
        var reply = (TransactionReply?)ReadJson(reader, reader.ReadInt32(), typeof(TransactionReply));
        if (reply is not null) transaction?.Merge(reply);
    }

    /// <summary>A reader over the payload's own bytes (no copy when they are an array, as the connections' pooled frames are).</summary>
    private static BinaryReader Reader(ReadOnlyMemory<byte> payload)
    {
        var bytes = MemoryMarshal.TryGetArray(payload, out var segment) ? segment : new ArraySegment<byte>(payload.ToArray());
        return new BinaryReader(new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false, publiclyVisible: true));
    }

    /// <summary>A JSON blob of <paramref name="length"/> bytes at the reader's position, read in place.</summary>
    private static object? ReadJson(BinaryReader reader, int length, Type type)
    {
        var stream = (MemoryStream)reader.BaseStream;
        stream.TryGetBuffer(out var buffer);
        var start = (int)stream.Position;
        if (length < 0 || length > buffer.Count - start) throw new EndOfStreamException("A grain message ends inside one of its values.");
        var value = GrainJson.Deserialize(buffer.AsSpan(start, length), type);
        stream.Position = start + length;
        return value;
    }

    /// <summary>
    /// Where a message is written: one buffer and JSON writer per thread, reused. A message is encoded
    /// in full without awaiting, and nothing it calls (JSON converters, <see cref="ExceptionCodec"/>)
    /// encodes a message, so a thread never has two at once. Each message is then one array, not a
    /// growing stream, a copy of it and an array per JSON value.
    /// </summary>
    private sealed class MessageBuffer
    {
        // A rare large message does not keep its buffer tied to the thread.
        private const int KeptCapacity = 64 * 1024;

        [ThreadStatic] private static MessageBuffer? _current;

        private readonly MemoryStream _stream = new(1024);
        private readonly Utf8JsonWriter _json;

        private MessageBuffer()
        {
            Writer = new BinaryWriter(_stream);
            _json = new Utf8JsonWriter(_stream, new JsonWriterOptions
            {
                Encoder = GrainJson.Options.Encoder,
                Indented = GrainJson.Options.WriteIndented,
                MaxDepth = GrainJson.Options.MaxDepth,
            });
        }

        public BinaryWriter Writer { get; }

        public static MessageBuffer Start()
        {
            var output = _current ??= new MessageBuffer();
            output._stream.SetLength(0);
            return output;
        }

        /// <summary>A value as its length (Int32) and its JSON, written in place; the length is filled in after.</summary>
        public void WriteJson(object? value, Type type)
        {
            Writer.Flush();
            var lengthAt = _stream.Position;
            Writer.Write(0);
            Writer.Flush();
            _json.Reset(_stream);
            JsonSerializer.Serialize(_json, value, type, GrainJson.Options);
            _json.Flush();
            var end = _stream.Position;
            _stream.Position = lengthAt;
            Writer.Write(checked((int)(end - lengthAt - sizeof(int))));
            Writer.Flush();
            _stream.Position = end;
        }

        public byte[] Finish()
        {
            Writer.Flush();
            var bytes = _stream.ToArray();
            if (_stream.Capacity > KeptCapacity) _current = null;
            return bytes;
        }
    }
}
