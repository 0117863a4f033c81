using BankGrains.Api.Contracts;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Api.Ledger;

/// <summary>
/// The operator's integrity check: the ledger's own verification (hash chains, running balances, balanced
/// movements), plus, for every ledger account, its ledger balance against the balance the account's grain
/// holds. Grains are read a few at a time, so the check stays bounded for thousands of accounts.
/// </summary>
internal sealed class LedgerAudit(ILedgerStore ledger, IGrainFactory grains, ILogger<LedgerAudit> logger)
{
    private const int Parallelism = 16;

    public async Task<LedgerVerificationResponse> RunAsync(bool includeAccounts, CancellationToken cancellationToken)
    {
        var verification = await ledger.VerifyAsync(cancellationToken);
        var accounts = new LedgerAccountResponse[verification.Accounts.Count];
        var mismatches = new string?[accounts.Length];

        await Parallel.ForEachAsync(Enumerable.Range(0, accounts.Length),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (i, ct) => (accounts[i], mismatches[i]) = await CompareAsync(verification.Accounts[i], ct));

        var problems = verification.Problems.Concat(mismatches.OfType<string>()).ToList();
        return new LedgerVerificationResponse(problems.Count == 0, verification.EntriesChecked, verification.TransactionsChecked,
            accounts.Length, problems, includeAccounts ? accounts : null);
    }

    private async Task<(LedgerAccountResponse Account, string? Problem)> CompareAsync(LedgerAccountSummary summary, CancellationToken ct)
    {
        var currency = Currency.Parse(summary.Currency);
        var ledgerBalance = summary.Balance;
        decimal? held;
        try
        {
            held = await ReadHeldBalanceAsync(summary.AccountId);
            if (held != ledgerBalance)
            {
                // A movement may have committed between the ledger read and the grain read: compare with the ledger as it is now.
                ledgerBalance = await LatestLedgerBalanceAsync(summary, ct);
                held = await ReadHeldBalanceAsync(summary.AccountId);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Ledger verification could not read the balance of {Account}", summary.AccountId);
            held = null;
        }

        var ok = held == ledgerBalance;
        var account = new LedgerAccountResponse(summary.AccountId, summary.Entries, new Money(ledgerBalance, currency),
            held is { } balance ? new Money(balance, currency) : null, summary.LastHash, ok);
        var problem = ok ? null
            : held is null ? $"Account {summary.AccountId}: its balance could not be read to compare with the ledger's {ledgerBalance} {currency}."
            : $"Account {summary.AccountId}: the ledger says {ledgerBalance} {currency} but the account holds {held} {currency}.";
        return (account, problem);
    }

    private async Task<decimal> ReadHeldBalanceAsync(string ledgerAccountId)
    {
        if (ledgerAccountId.StartsWith(LedgerAccounts.CashPrefix, StringComparison.Ordinal))
            return (await grains.GetGrain<ICashAccountGrain>(ledgerAccountId[LedgerAccounts.CashPrefix.Length..]).GetBalanceAsync()).Amount;
        if (Guid.TryParse(ledgerAccountId, out var id))
            return (await grains.GetGrain<IAccountGrain>(id).GetAsync()).Balance.Amount;
        throw new InvalidOperationException($"'{ledgerAccountId}' is neither an account id nor a cash account.");
    }

    // Sequences run 1, 2, 3, … so the entries after the verified ones start after sequence = Entries.
    private async Task<decimal> LatestLedgerBalanceAsync(LedgerAccountSummary summary, CancellationToken ct)
    {
        var balance = summary.Balance;
        var after = summary.Entries;
        while (true)
        {
            var page = await ledger.ReadEntriesAsync(summary.AccountId, after, 500, ct);
            if (page.Count == 0) return balance;
            balance = page[^1].BalanceAfter;
            after = page[^1].Sequence;
        }
    }
}
