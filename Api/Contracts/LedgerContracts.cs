using System.ComponentModel;
using System.Text.Json.Serialization;
using BankGrains.Grains.Interfaces;

namespace BankGrains.Api.Contracts;

public enum EntryDirection
{
    Credit,
    Debit,
}

[Description("One line of an account's journal. Entries are immutable and hash-chained per account.")]
public sealed record EntryResponse(
    [property: Description("The entry's position in the account's journal: 1, 2, 3, … without gaps.")] long Sequence,
    [property: Description("The movement (transfer, deposit, withdrawal) the entry belongs to; a transfer's is its id.")] Guid TransactionId,
    [property: Description("Signed: positive for a credit, negative for a debit.")] Money Amount,
    EntryDirection Direction,
    [property: Description("The account's balance right after this entry.")] Money BalanceAfter,
    DateTimeOffset PostedAt,
    [property: Description("SHA-256 (hex) over this entry and previousHash.")] string Hash,
    [property: Description("The hash of the previous entry, or the genesis hash for the first one.")] string PreviousHash);

[Description("A page of an account's journal entries, oldest first.")]
public sealed record EntryPageResponse(
    IReadOnlyList<EntryResponse> Items,
    [property: Description("Pass as ?cursor= to get the next page; null on the last page.")] string? NextCursor);

[Description("The integrity check of the whole ledger.")]
public sealed record LedgerVerificationResponse(
    [property: Description("True when every hash chain, running balance and movement checks out and every ledger balance equals its account's balance.")]
    bool Ok,
    long EntriesChecked,
    long TransactionsChecked,
    int AccountsChecked,
    [property: Description("What is wrong, one sentence each; empty when ok.")] IReadOnlyList<string> Problems,
    [property: Description("Each ledger account, with ?includeAccounts=true.")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<LedgerAccountResponse>? Accounts);

[Description("One ledger account in the integrity check.")]
public sealed record LedgerAccountResponse(
    [property: Description("A customer account's id, or \"cash:XXX\" for the bank's cash account in currency XXX.")] string AccountId,
    long Entries,
    [property: Description("The sum of the account's entries.")] Money LedgerBalance,
    [property: Description("The balance the account itself holds (committed); null if it could not be read.")] Money? AccountBalance,
    string LastHash,
    bool Ok);
