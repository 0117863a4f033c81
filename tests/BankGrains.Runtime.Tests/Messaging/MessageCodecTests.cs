using System.Collections.Immutable;
using BankGrains.Runtime.CodeGeneration;
using BankGrains.Runtime.Messaging;
using BankGrains.Runtime.Persistence;
using BankGrains.Runtime.Tests.Grains;
using Xunit;

namespace BankGrains.Runtime.Tests.Messaging;

public sealed class MessageCodecTests
{
    private static GrainMethodDescription Method(Type iface, string name) =>
        GrainInterfaceRegistry.Get(iface).Methods.Single(m => m.Name == name);

    [Fact]
    public void A_request_round_trips_with_its_arguments_deadline_context_and_routing_facts()
    {
        var method = Method(typeof(IStateGrain), nameof(IStateGrain.AddItemsAsync));
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_123);
        var context = ImmutableDictionary<string, string>.Empty.Add("correlation-id", "c-1").Add("ünïcode", "✓");
        var message = new Message(7, new GrainId("state", "k/with/slashes"), method, [new List<string> { "a", "b" }], deadline, context);

        var decoded = MessageCodec.DecodeRequest(MessageCodec.EncodeRequest(new WireRequest(message, ViewVersion: 42, Hops: 2)), messageId: 99);

        Assert.Equal(99, decoded.Message.Id);
        Assert.Equal(message.Target, decoded.Message.Target);
        Assert.Same(method, decoded.Message.Method);
        Assert.Equal(["a", "b"], Assert.IsType<List<string>>(decoded.Message.Arguments[0]));
        Assert.Equal(deadline, decoded.Message.Deadline);
        Assert.Equal(context, decoded.Message.RequestContext);
        Assert.Equal(42, decoded.ViewVersion);
        Assert.Equal(2, decoded.Hops);
    }

    [Fact]
    public void Results_round_trip_by_their_declared_type()
    {
        var encoded = MessageCodec.EncodeResult(new ProbeReport(1, 0, 5, "act"), typeof(ProbeReport));
        var (status, result, error, _) = MessageCodec.DecodeResponse(encoded, typeof(ProbeReport));

        Assert.Equal(ResponseStatus.Ok, status);
        Assert.Null(error);
        Assert.Equal(new ProbeReport(1, 0, 5, "act"), result);
        Assert.Null(MessageCodec.DecodeResponse(MessageCodec.EncodeResult(null, null), null).Result);
    }

    [Fact]
    public void A_message_decodes_in_place_from_a_slice_of_a_larger_buffer()
    {
        // The connections hand over pooled frames: the payload starts and ends inside a bigger array.
        var method = Method(typeof(IStateGrain), nameof(IStateGrain.AddItemsAsync));
        var message = new Message(1, new GrainId("state", "k"), method, [new List<string> { "x", "y" }], DateTimeOffset.UnixEpoch.AddDays(1), null);
        var encoded = MessageCodec.EncodeRequest(new WireRequest(message, 3, 0));
        var frame = new byte[encoded.Length + 40];
        Array.Fill(frame, (byte)0xFF);
        encoded.CopyTo(frame, 17);

        var decoded = MessageCodec.DecodeRequest(new ReadOnlyMemory<byte>(frame, 17, encoded.Length), messageId: 5);
        Assert.Equal(["x", "y"], Assert.IsType<List<string>>(decoded.Message.Arguments[0]));
        Assert.Equal(3, decoded.ViewVersion);

        var result = MessageCodec.EncodeResult(new ProbeReport(2, 1, 9, "slice"), typeof(ProbeReport));
        var responseFrame = new byte[result.Length + 9];
        result.CopyTo(responseFrame, 9);
        Assert.Equal(new ProbeReport(2, 1, 9, "slice"), MessageCodec.DecodeResponse(responseFrame.AsMemory(9), typeof(ProbeReport)).Result);
        // A value said to run past the payload's end is refused, not read from the bytes after it.
        Assert.Throws<EndOfStreamException>(() => MessageCodec.DecodeResponse(new ReadOnlyMemory<byte>(responseFrame, 9, result.Length - 3), typeof(ProbeReport)));
    }

    [Fact]
    public void Messages_encoded_one_after_another_on_a_thread_do_not_share_bytes()
    {
        // Each thread reuses one buffer; a large message must not leak into the next small one.
        var method = Method(typeof(IStateGrain), nameof(IStateGrain.AddItemsAsync));
        var large = Enumerable.Range(0, 20_000).Select(i => $"item-{i}").ToList();
        var first = MessageCodec.EncodeRequest(new WireRequest(new Message(1, new GrainId("state", "a"), method, [large], DateTimeOffset.UnixEpoch, null), 1, 0));
        var second = MessageCodec.EncodeRequest(new WireRequest(new Message(2, new GrainId("state", "b"), method, [new List<string> { "z" }], DateTimeOffset.UnixEpoch, null), 1, 0));

        Assert.True(first.Length > 100_000);
        Assert.Equal(large, Assert.IsType<List<string>>(MessageCodec.DecodeRequest(first, 1).Message.Arguments[0]));
        Assert.Equal(["z"], Assert.IsType<List<string>>(MessageCodec.DecodeRequest(second, 2).Message.Arguments[0]));
        Assert.True(second.Length < 200);
    }

    [Fact]
    public void Exceptions_come_back_as_their_own_type_with_their_properties()
    {
        var original = new CodedException(ErrorKind.Overdrawn, "too much");
        var back = MessageCodec.DecodeResponse(MessageCodec.EncodeError(original), null).Error;

        var rebuilt = Assert.IsType<CodedException>(back);
        Assert.Equal(ErrorKind.Overdrawn, rebuilt.Kind);
        Assert.Equal("too much", rebuilt.Message);

        var conflict = MessageCodec.DecodeResponse(MessageCodec.EncodeError(new InconsistentStateException("stale", "3", "2")), null).Error;
        Assert.Equal("3", Assert.IsType<InconsistentStateException>(conflict).StoredETag);
    }

    [Fact]
    public void An_exception_that_cannot_be_rebuilt_keeps_its_type_name_and_message()
    {
        var back = MessageCodec.DecodeResponse(MessageCodec.EncodeError(new GrainActivationException(new GrainId("x", "1"), new Exception("boom"))), null).Error;

        var remote = Assert.IsType<RemoteGrainException>(back);
        Assert.Contains(nameof(GrainActivationException), remote.OriginalType);
        Assert.Contains("boom", remote.Message);
    }

    [Fact]
    public void A_rejection_carries_the_responders_view()
    {
        var (status, _, error, view) = MessageCodec.DecodeResponse(MessageCodec.EncodeRejection(17, "not the owner"), typeof(int));
        Assert.Equal(ResponseStatus.Rejected, status);
        Assert.Equal(17, view);
        Assert.Contains("not the owner", error!.Message);
    }

    public enum ErrorKind { None, Overdrawn }

    public sealed class CodedException(ErrorKind kind, string message) : Exception(message)
    {
        public ErrorKind Kind { get; } = kind;
    }
}
