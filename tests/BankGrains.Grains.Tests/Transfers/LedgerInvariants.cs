using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Transactions;
using Xunit;

namespace BankGrains.Grains.Tests.Transfers;

/// <summary>
/// What must hold after any mix of concurrent transfers, whatever failed on the way: money is
/// conserved, no account went below its limit at any point, every account's state agrees with its
/// journal, the journal's chains and balances verify, and exactly the acknowledged transfers are in the ledger.
/// </summary>
internal static class LedgerInvariants
{
    private const int PageSize = 97; // not a divisor of the entry counts, so paging boundaries get exercised

    /// <param name="committed">Every transfer known to have committed (acknowledged, or resolved as committed).</param>
    /// <param name="notCommitted">Ids of transfers known not to have committed (refused, aborted, resolved as aborted).</param>
    public static async Task AssertAsync(TransferBank bank, IReadOnlyList<OpenedAccount> accounts,
        IReadOnlyCollection<TransferOrder> committed, IReadOnlyCollection<Guid> notCommitted)
    {
        var currency = accounts[0].Currency;
        Assert.All(accounts, a => Assert.Equal(currency, a.Currency));
        Assert.Empty(committed.Select(o => o.TransferId).Intersect(notCommitted));

        // The ledger as a whole: hash chains, running balances, every transaction balanced.
        var verification = await bank.Ledger.VerifyAsync();
        Assert.True(verification.Ok, "ledger verification failed:\n" + string.Join("\n", verification.Problems.Take(20)));
        Assert.Empty(verification.Problems);

        var expected = accounts.ToDictionary(a => a.Id, a => a.Funding);
        foreach (var order in committed)
        {
            expected[order.FromAccountId] -= order.Amount.Amount;
            expected[order.ToAccountId] += order.Amount.Amount;
        }

        var committedIds = committed.Select(o => o.TransferId).ToHashSet();
        var transferIdsInJournals = new HashSet<Guid>();
        var total = 0m;
        foreach (var account in accounts)
        {
            var snapshot = await bank.Account(account.Id).GetAsync();
            var balance = snapshot.Balance.Amount;
            total += balance;
            Assert.Equal(expected[account.Id], balance);
            Assert.True(balance >= -account.Overdraft, $"account {account.Id} ended at {balance}, below its overdraft {account.Overdraft}");

            var entries = await ReadAllEntriesAsync(bank.Ledger, account.LedgerId);
            Assert.Equal(balance, entries.Sum(e => e.Amount));
            Assert.Equal(balance, entries.Count == 0 ? 0m : entries[^1].BalanceAfter);
            // Every intermediate balance too: no interleaving ever let the account past its limit.
            Assert.All(entries, e => Assert.True(e.BalanceAfter >= -account.Overdraft,
                $"account {account.Id} entry {e.Sequence} left the balance at {e.BalanceAfter}, below its overdraft {account.Overdraft}"));
            Assert.Equal(Enumerable.Range(1, entries.Count).Select(i => (long)i), entries.Select(e => e.Sequence));

            foreach (var entry in entries)
            {
                if (account.Funding > 0 && entry.TransactionId == account.FundingMovementId) continue;
                transferIdsInJournals.Add(entry.TransactionId);
            }
            var touching = committed.Count(o => o.FromAccountId == account.Id || o.ToAccountId == account.Id);
            Assert.Equal(touching + (account.Funding > 0 ? 1 : 0), entries.Count);
        }

        // Conserved: the accounts hold what was deposited, and the cash account is its exact mirror.
        Assert.Equal(accounts.Sum(a => a.Funding), total);
        var cash = (await bank.Cash(currency).GetBalanceAsync()).Amount;
        Assert.Equal(0m, total + cash);
        var cashEntries = await ReadAllEntriesAsync(bank.Ledger, LedgerAccounts.ForCash(currency));
        Assert.Equal(cash, cashEntries.Sum(e => e.Amount));

        // Exactly the committed transfers moved money: as many ledger transfers as acknowledgements.
        Assert.Equal(committedIds.Count, committed.Count);
        Assert.True(committedIds.SetEquals(transferIdsInJournals),
            $"journals hold {transferIdsInJournals.Count} transfers, {transferIdsInJournals.Except(committedIds).Count()} of them unacknowledged; " +
            $"{committedIds.Except(transferIdsInJournals).Count()} acknowledged transfers are missing");
        foreach (var order in committed)
        {
            var view = await bank.Ledger.ReadTransactionAsync(order.TransferId);
            Assert.NotNull(view);
            Assert.Equal("transfer", view.Header.Kind);
            Assert.Equal(order.Reference, view.Header.Reference);
            Assert.Equal(2, view.Entries.Count);
            Assert.Contains(view.Entries, e => e.AccountId == LedgerAccounts.ForAccount(order.FromAccountId) && e.Amount == -order.Amount.Amount);
            Assert.Contains(view.Entries, e => e.AccountId == LedgerAccounts.ForAccount(order.ToAccountId) && e.Amount == order.Amount.Amount);
            Assert.Equal(TransactionOutcome.Committed, await bank.Transactions.ReadOutcomeAsync(order.TransferId));
        }
        foreach (var id in notCommitted)
        {
            Assert.Null(await bank.Ledger.ReadTransactionAsync(id));
            Assert.NotEqual(TransactionOutcome.Committed, await bank.Transactions.ReadOutcomeAsync(id));
        }
    }

    public static async Task<IReadOnlyList<JournalEntry>> ReadAllEntriesAsync(ILedgerStore ledger, string accountId)
    {
        var all = new List<JournalEntry>();
        while (true)
        {
            var page = await ledger.ReadEntriesAsync(accountId, all.Count == 0 ? 0 : all[^1].Sequence, PageSize);
            all.AddRange(page);
            if (page.Count < PageSize) return all;
        }
    }

    /// <summary>Splits a run's attempts into the committed orders and the ids that moved nothing; no attempt may be left unknown.</summary>
    public static (List<TransferOrder> Committed, List<Guid> NotCommitted) Split(IEnumerable<TransferAttempt> attempts)
    {
        var list = attempts.ToList();
        var unknown = list.Where(a => a.Fate == Fate.Unknown).ToList();
        Assert.True(unknown.Count == 0, $"{unknown.Count} transfers ended with an unexpected error, e.g. {unknown.FirstOrDefault()?.Error}");
        return (list.Where(a => a.Fate == Fate.Committed).Select(a => a.Order).ToList(),
            list.Where(a => a.Fate != Fate.Committed).Select(a => a.Order.TransferId).Distinct().ToList());
    }
}
