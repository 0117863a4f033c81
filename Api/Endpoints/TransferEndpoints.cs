using BankGrains.Api.Contracts;
using BankGrains.Api.Idempotency;
using BankGrains.Api.Ledger;
using BankGrains.Api.Movements;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BankGrains.Api.Endpoints;

/// <summary>/transfers: moving money between two accounts, atomically, and looking a transfer up.</summary>
public static class TransferEndpoints
{
    public static IEndpointRouteBuilder MapTransferEndpoints(this IEndpointRouteBuilder app)
    {
        var transfers = app.MapGroup("/transfers").WithTags("Transfers");

        transfers.MapPost("", CreateAsync)
            .WithName("CreateTransfer")
            .WithSummary("Transfer money between two accounts")
            .WithDescription("Debits fromAccountId and credits toAccountId with the same positive amount, in one transaction: both or neither. " +
                             "Both accounts must be in the amount's currency; the debit follows the withdrawal rules (balance plus overdraft, " +
                             "not frozen or closed). Requires an Idempotency-Key: a retry with the same key and body returns the original answer " +
                             "(marked Idempotent-Replayed: true) and never moves the money twice. Returns the transfer, with its URL in Location.")
            .RequireIdempotencyKey<TransferReceipt>(Render, id => $"/transfers/{id}")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);

        transfers.MapGet("/{id:guid}", GetAsync)
            .WithName("GetTransfer")
            .WithSummary("Get a transfer's outcome")
            .WithDescription("200 with status \"completed\" and the transfer (the same body as its 201), or 200 {\"id\",\"status\":\"aborted\"} for a " +
                             "transfer that was aborted and moved nothing. An id with no outcome yet is 404: the transfer may still be running. " +
                             "Once the id is older than twice the transaction timeout plus 5 seconds (transfer ids are version 7 GUIDs, which " +
                             "carry their creation time), looking it up settles it for good: a transfer that has not committed by then is " +
                             "recorded as aborted and can never commit. A transfer still running is never aborted by a lookup.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return app;
    }

    private static Created<TransferResponse> Render(TransferReceipt receipt) =>
        TypedResults.Created($"/transfers/{receipt.Id}", TransferResponse.From(receipt));

    private static async Task<Created<TransferResponse>> CreateAsync([FromBody] TransferRequest request, MoneyMovement movement, IGrainFactory grains)
    {
        var from = Require.Id(request.FromAccountId, "fromAccountId");
        var to = Require.Id(request.ToAccountId, "toAccountId");
        var amount = Require.PositiveAmount(request.Amount, "amount");
        var reference = Require.OptionalText(request.Reference, "reference", Require.MaxReferenceLength);

        var order = new TransferOrder(movement.Id, from, to, amount, reference, movement.Stamp(StatusCodes.Status201Created));
        return Render(await grains.GetGrain<ITellerGrain>(Tellers.For(from)).TransferAsync(order));
    }

    // The document shows one 200 schema per operation, the last type here: the completed transfer (the description tells the aborted form).
    private static async Task<Results<Ok<AbortedTransferResponse>, Ok<TransferResponse>>> GetAsync(Guid id, TransferLookup transfers, CancellationToken cancellationToken) =>
        await transfers.FindAsync(id, cancellationToken) switch
        {
            TransferResponse completed => TypedResults.Ok(completed),
            var aborted => TypedResults.Ok((AbortedTransferResponse)aborted),
        };
}
