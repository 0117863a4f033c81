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
