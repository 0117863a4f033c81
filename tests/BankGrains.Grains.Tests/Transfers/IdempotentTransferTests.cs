using System.Text.Json;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Serialization;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Grains.Tests.Transfers;

/// <summary>
/// A transfer sent with an Idempotency-Key moves money at most once, however often and however
/// concurrently it is retried, and even when the first attempt's caller never learnt it committed.
/// </summary>
public sealed class IdempotentTransferTests
{
    private static TransferOrder Order(IReadOnlyList<OpenedAccount> accounts, string key, decimal amount = 12.34m) =>
        new(Guid.NewGuid(), accounts[0].Id, accounts[1].Id, new Money(amount, Currency.USD), "rent",
            new IdempotencyStamp(key, RequestHash: "sha256:" + key, StatusCode: 201));

    [Fact]
    public async Task The_same_order_sent_twice_moves_money_once()
    {
        await using var bank = await TransferBank.StartInMemoryAsync(silos: 1);
        var accounts = await bank.OpenFundedAccountsAsync((0m, 100m), (0m, 0m));
        var order = Order(accounts, "key-sequential");

        var receipt = await bank.Teller(0).TransferAsync(order);
        var again = await Assert.ThrowsAnyAsync<Exception>(() => bank.Teller(0).TransferAsync(order));

        await AssertMovedOnceAsync(bank, accounts, order, receipt);
        AssertRefusedForTheKey(again, order);
    }

    [Fact]
    public async Task The_same_key_under_a_new_transfer_id_is_refused_at_commit()
    {
        await using var bank = await TransferBank.StartInMemoryAsync(silos: 1);
        var accounts = await bank.OpenFundedAccountsAsync((0m, 100m), (0m, 0m));
        var order = Order(accounts, "key-new-id");

        var receipt = await bank.Teller(0).TransferAsync(order);
        // A second node of the API that made up its own transfer id for the same request.
        var again = await Assert.ThrowsAnyAsync<Exception>(() => bank.Teller(0).TransferAsync(order with { TransferId = Guid.NewGuid() }));

        await AssertMovedOnceAsync(bank, accounts, order, receipt);
        AssertRefusedForTheKey(again, order);
    }

    [Fact]
    public async Task The_same_order_sent_concurrently_from_three_silos_moves_money_once()
    {
        await using var bank = await TransferBank.StartInMemoryAsync(silos: 3);
        var accounts = await bank.OpenFundedAccountsAsync((0m, 100m), (0m, 0m));
        for (var round = 0; round < 10; round++)
        {
            var order = Order(accounts, $"key-concurrent-{round}", amount: 1m);
            var fresh = order with { TransferId = Guid.NewGuid() };
            // Two copies per silo: same id (a client retrying) and a fresh id (another API node).
            var sent = Enumerable.Range(0, 6).Select(i => TransferWorkload.SendAsync(bank.Teller(i), i % 2 == 0 ? order : fresh)).ToList();
            var attempts = await Task.WhenAll(sent);

            Assert.DoesNotContain(attempts, a => a.Fate is Fate.Unknown or Fate.Rejected);
            var winners = attempts.Where(a => a.Fate == Fate.Committed).Select(a => a.Order.TransferId).Distinct().ToList();
            Assert.True(winners.Count <= 1, $"round {round}: {string.Join(" and ", winners)} all committed the key");
            var winner = winners.Count == 1 ? attempts.First(a => a.Fate == Fate.Committed).Order : null;
            foreach (var id in new[] { order.TransferId, fresh.TransferId }.Where(id => id != winner?.TransferId))
                Assert.Null(await bank.Ledger.ReadTransactionAsync(id));
            if (winner is not null) Assert.NotNull(await bank.Ledger.ReadTransactionAsync(winner.TransferId));
        }

        // Each round moved 1.00 at most once; the ledger and the accounts agree on how often.
        var moved = 0;
        for (var round = 0; round < 10; round++)
            if ((await ClaimAsync(bank, $"key-concurrent-{round}")).Status == IdempotencyClaimStatus.Completed) moved++;
        Assert.Equal(100m - moved, (await bank.Account(accounts[0].Id).GetAsync()).Balance.Amount);
        Assert.Equal(moved, (await bank.Account(accounts[1].Id).GetAsync()).Balance.Amount);
        await AssertLedgerAgreesAsync(bank, accounts);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task One_transfer_id_sent_concurrently_without_a_key_commits_at_most_once(int silos)
    {
        // A client that times out and resends while the first request still runs: the transfer id
        // alone (one outcome per transaction id) must keep the money from moving twice.
        await using var bank = await TransferBank.StartInMemoryAsync(silos);
        var accounts = await bank.OpenFundedAccountsAsync((0m, 100m), (0m, 0m));
        var committed = 0;
        for (var round = 0; round < 10; round++)
        {
            var order = new TransferOrder(Guid.NewGuid(), accounts[0].Id, accounts[1].Id, new Money(1m, Currency.USD), $"dup-{round}");
            var attempts = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => TransferWorkload.SendAsync(bank.Teller(i), order)));
            Assert.DoesNotContain(attempts, a => a.Fate is Fate.Unknown or Fate.Rejected);
            var view = await bank.Ledger.ReadTransactionAsync(order.TransferId);
            if (view is not null)
            {
                committed++;
                Assert.Equal(2, view.Entries.Count);
            }
            Assert.True(view is not null || attempts.All(a => a.Fate is not (Fate.Committed or Fate.AlreadyCommitted)), $"round {round}: acknowledged but not in the ledger");
        }

        Assert.Equal(100m - committed, (await bank.Account(accounts[0].Id).GetAsync()).Balance.Amount);
        Assert.Equal(committed, (await bank.Account(accounts[1].Id).GetAsync()).Balance.Amount);
        await AssertLedgerAgreesAsync(bank, accounts);
    }

    [Fact]
    public async Task An_order_whose_commit_reply_was_lost_is_not_applied_again_on_retry()
    {
        var transferId = Guid.NewGuid();
        var broke = 0;
        await using var bank = await TransferBank.StartInMemoryAsync(silos: 1, options =>
            options.TransactionStore.AfterCommit = group =>
            {
                // The database committed, then the connection broke before the reply came back.
                if (group.Any(r => r.TransactionId == transferId) && Interlocked.Exchange(ref broke, 1) == 0)
                    throw new IOException("connection reset after COMMIT");
            });
        var accounts = await bank.OpenFundedAccountsAsync((0m, 100m), (0m, 0m));
        var order = Order(accounts, "key-lost-reply") with { TransferId = transferId };

        // The coordinator resolves the doubt from the commit record: the caller still gets its receipt.
        var receipt = await bank.Teller(0).TransferAsync(order);
        Assert.Equal(1, broke);
        Assert.Equal(TransactionOutcome.Committed, await bank.TransactionClient.ResolveOutcomeAsync(transferId));

        var again = await Assert.ThrowsAnyAsync<Exception>(() => bank.Teller(0).TransferAsync(order));
        await AssertMovedOnceAsync(bank, accounts, order, receipt);
        AssertRefusedForTheKey(again, order);
    }

    private static Task<IdempotencyClaim> ClaimAsync(TransferBank bank, string key) =>
        bank.Idempotency.ClaimAsync(key, "sha256:" + key, Guid.NewGuid(), DateTimeOffset.UtcNow.AddMinutes(1));

    private static async Task AssertMovedOnceAsync(TransferBank bank, IReadOnlyList<OpenedAccount> accounts, TransferOrder order, TransferReceipt receipt)
    {
        Assert.Equal(100m - order.Amount.Amount, (await bank.Account(accounts[0].Id).GetAsync()).Balance.Amount);
        Assert.Equal(order.Amount.Amount, (await bank.Account(accounts[1].Id).GetAsync()).Balance.Amount);
        await AssertLedgerAgreesAsync(bank, accounts);
        var moves = await LedgerInvariants.ReadAllEntriesAsync(bank.Ledger, accounts[1].LedgerId);
        Assert.Equal(order.TransferId, Assert.Single(moves).TransactionId);

        // The key now replays the first answer, byte for byte what the caller got.
        var claim = await ClaimAsync(bank, order.Idempotency!.Key);
        Assert.Equal(IdempotencyClaimStatus.Completed, claim.Status);
        Assert.Equal(201, claim.StatusCode);
        Assert.Equal(JsonSerializer.Serialize(receipt, GrainJson.Options), claim.ResponseBody);
    }

    private static async Task AssertLedgerAgreesAsync(TransferBank bank, IReadOnlyList<OpenedAccount> accounts)
    {
        var verification = await bank.Ledger.VerifyAsync();
        Assert.True(verification.Ok, string.Join("\n", verification.Problems));
        foreach (var account in accounts)
        {
            var entries = await LedgerInvariants.ReadAllEntriesAsync(bank.Ledger, account.LedgerId);
            Assert.Equal((await bank.Account(account.Id).GetAsync()).Balance.Amount, entries.Sum(e => e.Amount));
        }
    }

    private static void AssertRefusedForTheKey(Exception error, TransferOrder order)
    {
        var aborted = Assert.IsType<TransactionAbortedException>(error, exactMatch: false);
        Assert.Equal(TransactionAbortReason.IdempotencyKeyUsed, aborted.Reason);
        Assert.Contains(order.Idempotency!.Key, aborted.Message);
    }
}
