namespace BankGrains.Runtime.Transactions;

/// <summary>Reads the committed ledger: an account's entries page by page, one movement, and the integrity check.</summary>
public interface ILedgerStore
{
    /// <summary>
    /// Up to <paramref name="limit"/> entries of <paramref name="accountId"/> with a sequence above
    /// <paramref name="afterSequence"/>, oldest first.
    /// </summary>
    Task<IReadOnlyList<JournalEntry>> ReadEntriesAsync(string accountId, long afterSequence, int limit, CancellationToken cancellationToken = default);

    /// <summary>A committed movement (its header and entries), or null when none was committed under that id.</summary>
    Task<LedgerTransactionView?> ReadTransactionAsync(Guid transactionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Recomputes every account's hash chain and running balance, and checks that every transaction's
    /// entries balance per currency.
    /// </summary>
    Task<LedgerVerification> VerifyAsync(CancellationToken cancellationToken = default);
}

public sealed record LedgerTransactionView(LedgerTransaction Header, IReadOnlyList<JournalEntry> Entries);

/// <summary>What the ledger says about one account: entries, their sum, and whether its chain holds.</summary>
public sealed record LedgerAccountSummary(string AccountId, string Currency, long Entries, decimal Balance, string LastHash);

/// <summary>The result of an integrity check. <paramref name="Problems"/> is empty exactly when <paramref name="Ok"/>.</summary>
public sealed record LedgerVerification(
    bool Ok,
    long EntriesChecked,
    long TransactionsChecked,
    IReadOnlyList<LedgerAccountSummary> Accounts,
    IReadOnlyList<string> Problems);
