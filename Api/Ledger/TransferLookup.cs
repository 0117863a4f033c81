using BankGrains.Api.Contracts;
using BankGrains.Api.Movements;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Transactions;
using Microsoft.Extensions.Options;

namespace BankGrains.Api.Ledger;

/// <summary>
/// A transfer's outcome by id. A committed transfer is read from the ledger; an aborted one from its commit
/// record. An id with no outcome yet is settled (resolved as aborted, definitively) only once it is older than
/// the settlement horizon: a transfer still running is never aborted by being looked up.
/// </summary>
internal sealed class TransferLookup(ILedgerStore ledger, ITransactionStore transactions, IOptions<TransactionOptions> options, TimeProvider clock)
{
    public const string TransferKind = "transfer";

    /// <summary>The completed transfer, or the aborted one; a <see cref="BankErrorCode.NotFound"/> refusal when there is neither (yet).</summary>
    public async Task<object> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await ReadCommittedAsync(id, cancellationToken) is { } committed) return committed;

        var outcome = await transactions.ReadOutcomeAsync(id, cancellationToken);
        if (outcome is null && IsSettled(id)) outcome = await transactions.ResolveAsync(id, cancellationToken);

        return outcome switch
        {
            TransactionOutcome.Aborted => AbortedTransferResponse.For(id),
            // It committed between the two reads, or it committed something that is not a transfer.
            TransactionOutcome.Committed => await ReadCommittedAsync(id, cancellationToken) ?? throw NotATransfer(id),
            _ => throw new BankException(BankErrorCode.NotFound,
                $"No transfer with id {id} has completed. It may still be running: a transfer is settled (completed or aborted) " +
                $"within {SettlementHorizon.Of(options.Value).TotalSeconds:0} seconds of its creation."),
        };
    }

    private async Task<TransferResponse?> ReadCommittedAsync(Guid id, CancellationToken cancellationToken)
    {
        var view = await ledger.ReadTransactionAsync(id, cancellationToken);
        if (view is null) return null;
        if (view.Header.Kind != TransferKind) throw NotATransfer(id);

        // The ledger is the truth: the debited account is the one whose entry is negative.
        var debit = view.Entries.Single(e => e.Amount < 0);
        var credit = view.Entries.Single(e => e.Amount > 0);
        return new TransferResponse(id, "completed", Guid.Parse(debit.AccountId), Guid.Parse(credit.AccountId),
            new Money(credit.Amount, Currency.Parse(credit.Currency)), view.Header.Reference, view.Header.CreatedAt);
    }

    // Too young ids, and ids that are not version 7 (their age is unknown), are left alone.
    private bool IsSettled(Guid id) =>
        SettlementHorizon.CreatedAt(id) is { } created && clock.GetUtcNow() - created > SettlementHorizon.Of(options.Value);

    private static BankException NotATransfer(Guid id) =>
        new(BankErrorCode.NotFound, $"{id} is not a transfer (it may be another kind of movement, such as a deposit).");
}
