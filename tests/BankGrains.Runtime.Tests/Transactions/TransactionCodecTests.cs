using BankGrains.Runtime.CodeGeneration;
using BankGrains.Runtime.Messaging;
using BankGrains.Runtime.Tests.Transactions.Grains;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Runtime.Tests.Transactions;

/// <summary>What a transaction puts on the wire: the header of a request, the trailer of its response, and its exceptions.</summary>
public sealed class TransactionCodecTests
{
    private static readonly GrainMethodDescription Add =
        GrainInterfaceRegistry.Get(typeof(ITxWalletGrain)).Methods.Single(m => m.Name == nameof(ITxWalletGrain.AddAsync));

    private static TransactionInfo NewTransaction() =>
        new(Guid.NewGuid(), attempt: 3, priority: 638_000_000_123_456_789, deadline: DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_123).AddTicks(4567), coordinator: "127.0.0.1:11111@42");

    [Fact]
    public void A_request_carries_the_transaction_header()
    {
        var sent = NewTransaction();
        var message = new Message(1, TxWalletGrain.IdOf("w"), Add, [5], DateTimeOffset.UtcNow.AddSeconds(30), null, sent);

        var received = MessageCodec.DecodeRequest(MessageCodec.EncodeRequest(new WireRequest(message, 1, 0)), 2).Message.Transaction;

        Assert.NotNull(received);
        Assert.NotSame(sent, received);
        Assert.Equal(sent.Id, received.Id);
        Assert.Equal(sent.Attempt, received.Attempt);
        Assert.Equal(sent.Priority, received.Priority);
        Assert.Equal(sent.Deadline, received.Deadline);
        Assert.Equal(sent.Coordinator, received.Coordinator);

        var plain = new Message(3, TxWalletGrain.IdOf("w"), Add, [5], DateTimeOffset.UtcNow.AddSeconds(30), null);
        Assert.Null(MessageCodec.DecodeRequest(MessageCodec.EncodeRequest(new WireRequest(plain, 1, 0)), 4).Message.Transaction);
    }

    [Fact]
    public void The_callees_participants_and_records_come_back_with_a_result_and_with_an_error()
    {
        foreach (var failed in new[] { false, true })
        {
            var caller = NewTransaction();
            caller.Join(TxWalletGrain.IdOf("already-known"));
            var callee = caller.Fork();
            callee.Join(TxWalletGrain.IdOf("remote-1"));
            callee.Join(TxWalletGrain.IdOf("remote-2"));
            callee.AddRecords(r => r.Entries.Add(new JournalEntry(caller.Id, "acct", 1, "EUR", 2.5m, 2.5m, DateTimeOffset.UnixEpoch, "p", "h")));

            var payload = failed
                ? MessageCodec.EncodeError(new WalletFailureException("after joining"), callee)
                : MessageCodec.EncodeResult(7, typeof(int), callee);
            var (status, result, error, _) = MessageCodec.DecodeResponse(payload, typeof(int), caller);

            Assert.Equal(failed ? ResponseStatus.Error : ResponseStatus.Ok, status);
            if (failed) Assert.IsType<WalletFailureException>(error);
            else Assert.Equal(7, result);
            Assert.Equal(new[] { "already-known", "remote-1", "remote-2" }, caller.Participants.Select(p => p.Key).Order());
            var entry = Assert.Single(caller.Records.Entries);
            Assert.Equal(("acct", 2.5m), (entry.AccountId, entry.Amount));
        }
    }

    [Fact]
    public void A_response_without_a_trailer_leaves_the_callers_transaction_alone()
    {
        var caller = NewTransaction();
        var (_, result, _, _) = MessageCodec.DecodeResponse(MessageCodec.EncodeResult(7, typeof(int)), typeof(int), caller);

        Assert.Equal(7, result);
        Assert.Empty(caller.Participants);
        Assert.True(caller.Records.IsEmpty);
    }

    [Fact]
    public void Transaction_exceptions_cross_the_wire_with_their_id_and_reason()
    {
        var id = Guid.NewGuid();
        foreach (var reason in Enum.GetValues<TransactionAbortReason>())
        {
            var back = MessageCodec.DecodeResponse(MessageCodec.EncodeError(new TransactionAbortedException(id, reason, $"aborted: {reason}")), null).Error;
            var aborted = Assert.IsType<TransactionAbortedException>(back);
            Assert.Equal((id, reason, $"aborted: {reason}"), (aborted.TransactionId, aborted.Reason, aborted.Message));
        }

        var doubt = MessageCodec.DecodeResponse(MessageCodec.EncodeError(new TransactionInDoubtException(id, "unknown outcome")), null).Error;
        Assert.Equal(id, Assert.IsType<TransactionInDoubtException>(doubt).TransactionId);
    }
}
