using System.Collections.Immutable;
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
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
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
            WriteBlob(writer, GrainJson.Serialize(message.Arguments[i], message.Method.ParameterTypes[i]));
        writer.Flush();
        return stream.ToArray();
    }

    public static WireRequest DecodeRequest(ReadOnlyMemory<byte> payload, long messageId)
    {
        using var reader = new BinaryReader(new MemoryStream(payload.ToArray(), writable: false));
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
            arguments[i] = GrainJson.Deserialize(ReadBlob(reader), method.ParameterTypes[i]);
        return new WireRequest(new Message(messageId, target, method, arguments, deadline, context, transaction), view, hops);
    }

    /// <param name="transaction">The callee's copy of the caller's transaction: who joined and what they recorded goes back.</param>
    public static byte[] EncodeResult(object? result, Type? resultType, TransactionInfo? transaction = null)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write((byte)ResponseStatus.Ok);
        if (resultType is null) writer.Write(-1);
        else WriteBlob(writer, GrainJson.Serialize(result, resultType));
        WriteReply(writer, transaction);
        writer.Flush();
        return stream.ToArray();
    }

    public static byte[] EncodeError(Exception error, TransactionInfo? transaction = null)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write((byte)ResponseStatus.Error);
        ExceptionCodec.Write(writer, error);
        WriteReply(writer, transaction);
        writer.Flush();
        return stream.ToArray();
    }

    /// <summary>The request did not run on this silo; <paramref name="viewVersion"/> tells the sender how current the refusal is.</summary>
    public static byte[] EncodeRejection(long viewVersion, string reason)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write((byte)ResponseStatus.Rejected);
        writer.Write(viewVersion);
        writer.Write(reason);
        writer.Flush();
        return stream.ToArray();
    }

    /// <summary>Decodes a response: the result, or the exception to throw, or a rejection (with the responder's view).</summary>
    /// <param name="transaction">The caller's copy of its transaction, to merge the callee's reply into.</param>
    public static (ResponseStatus Status, object? Result, Exception? Error, long RejectedAtView) DecodeResponse(ReadOnlyMemory<byte> payload, Type? resultType,
        TransactionInfo? transaction = null)
    {
        using var reader = new BinaryReader(new MemoryStream(payload.ToArray(), writable: false));
        var status = (ResponseStatus)reader.ReadByte();
        switch (status)
        {
            case ResponseStatus.Ok:
                var length = reader.ReadInt32();
                var result = length < 0 || resultType is null ? null : GrainJson.Deserialize(reader.ReadBytes(length), resultType);
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
        writer.Write(transaction.Id.ToByteArray());
        writer.Write(transaction.Attempt);
        writer.Write(transaction.Run.ToByteArray());
        writer.Write(transaction.Priority);
        writer.Write(transaction.Deadline.UtcTicks);
        writer.Write(transaction.Coordinator);
    }

    private static TransactionInfo? ReadTransaction(BinaryReader reader)
    {
        if (!reader.ReadBoolean()) return null;
        var id = new Guid(reader.ReadBytes(16));
        var attempt = reader.ReadInt32();
        var run = new Guid(reader.ReadBytes(16));
        return new TransactionInfo(id, attempt, reader.ReadInt64(), new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero), reader.ReadString(), run);
    }

    private static void WriteReply(BinaryWriter writer, TransactionInfo? transaction)
    {
        writer.Write(transaction is not null);
        if (transaction is not null) WriteBlob(writer, GrainJson.Serialize(transaction.ToReply(), typeof(TransactionReply)));
    }

    private static void ReadReply(BinaryReader reader, TransactionInfo? transaction)
    {
        // Older senders and rejections carry no reply.
        if (reader.BaseStream.Position >= reader.BaseStream.Length || !reader.ReadBoolean()) return;
        var reply = (TransactionReply?)GrainJson.Deserialize(ReadBlob(reader), typeof(TransactionReply));
        if (reply is not null) transaction?.Merge(reply);
    }

    private static void WriteBlob(BinaryWriter writer, byte[] bytes)
    {
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    private static byte[] ReadBlob(BinaryReader reader) => reader.ReadBytes(reader.ReadInt32());
}
