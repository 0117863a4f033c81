using BankGrains.Api.Contracts;
using BankGrains.Api.Ledger;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Transactions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BankGrains.Api.Endpoints;

/// <summary>The double-entry ledger: an account's journal entries, and the integrity check.</summary>
public static class LedgerEndpoints
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 200;

    public static IEndpointRouteBuilder MapLedgerEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/accounts/{id:guid}/entries", ListEntriesAsync)
            .WithName("ListAccountEntries")
            .WithTags("Ledger")
            .WithSummary("List an account's journal entries")
            .WithDescription($"The account's ledger entries, oldest first, {DefaultPageSize} per page by default (limit 1–{MaxPageSize}). " +
                             "Each entry is signed (credit positive, debit negative), carries the balance after it and is hash-chained to the " +
                             "previous one. Pass nextCursor back as ?cursor= for the next page; it is null on the last page.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        app.MapGet("/ledger/verify", VerifyAsync)
            .WithName("VerifyLedger")
            .WithTags("Ledger")
            .WithSummary("Check the ledger's integrity")
            .WithDescription("For operators. Recomputes every account's hash chain and running balance, checks that every movement's entries " +
                             "balance per currency, and compares each ledger balance with the balance the account (or the bank's cash account) " +
                             "holds. ok is true when nothing is wrong; problems lists what is. ?includeAccounts=true adds each account's figures. " +
                             "Reads the whole ledger: run it on a quiet system for exact results, as movements committing during the check can show " +
                             "as transient mismatches.");

        return app;
    }

    private static async Task<Ok<EntryPageResponse>> ListEntriesAsync(Guid id, string? limit, string? cursor, IGrainFactory grains, ILedgerStore ledger,
        CancellationToken cancellationToken)
    {
        var pageSize = Require.Count(limit, "limit", 1, MaxPageSize, DefaultPageSize);
        var after = EntryCursor.Decode(cursor, "cursor");
        await grains.GetGrain<IAccountGrain>(id).GetAsync(); // NotFound for an account that was never opened

        // One entry more than the page tells whether there is a next page.
        var entries = await ledger.ReadEntriesAsync(LedgerAccounts.ForAccount(id), after, pageSize + 1, cancellationToken);
        var page = entries.Take(pageSize).Select(ToResponse).ToList();
        var next = entries.Count > pageSize ? EntryCursor.Encode(page[^1].Sequence) : null;
        return TypedResults.Ok(new EntryPageResponse(page, next));
    }

    private static async Task<Ok<LedgerVerificationResponse>> VerifyAsync(string? includeAccounts, LedgerAudit audit, CancellationToken cancellationToken) =>
        TypedResults.Ok(await audit.RunAsync(Require.Flag(includeAccounts, "includeAccounts"), cancellationToken));

    private static EntryResponse ToResponse(JournalEntry entry)
    {
        var currency = Currency.Parse(entry.Currency);
        return new EntryResponse(entry.Sequence, entry.TransactionId, new Money(entry.Amount, currency),
            entry.Amount < 0 ? EntryDirection.Debit : EntryDirection.Credit, new Money(entry.BalanceAfter, currency),
            entry.PostedAt, entry.Hash, entry.PreviousHash);
    }
}
