using BankGrains.Api.Contracts;
using BankGrains.Api.Idempotency;
using BankGrains.Api.Movements;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BankGrains.Api.Endpoints;

/// <summary>/accounts: opening, lookup, deposits, withdrawals, freezing.</summary>
public static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/accounts").WithTags("Accounts");

        accounts.MapPost("", OpenAsync)
            .WithName("OpenAccount")
            .WithSummary("Open an account")
            .WithDescription("Opens a checking or savings account for a customer of KYC level basic or full. " +
                             "An overdraft limit needs a checking account and KYC level full.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        accounts.MapGet("/{id:guid}", GetAsync)
            .WithName("GetAccount")
            .WithSummary("Get an account")
            .ProducesProblem(StatusCodes.Status404NotFound);

        accounts.MapPost("/{id:guid}/deposits", DepositAsync)
            .WithName("Deposit")
            .WithSummary("Deposit money")
            .WithDescription("Credits a positive amount in the account's currency, against the bank's cash account; frozen accounts still accept credits. " +
                             "Returns the account with its new balance. Requires an Idempotency-Key: a retry with the same key and body returns the " +
                             "original answer (marked Idempotent-Replayed: true) and never deposits twice.")
            .RequireIdempotencyKey<AccountSnapshot>(Render)
            .ProducesMoneyMovementProblems();

        accounts.MapPost("/{id:guid}/withdrawals", WithdrawAsync)
            .WithName("Withdraw")
            .WithSummary("Withdraw money")
            .WithDescription("Debits a positive amount in the account's currency, up to the balance plus the overdraft limit. " +
                             "Refused on frozen or closed accounts. Returns the account with its new balance. Requires an Idempotency-Key: a retry " +
                             "with the same key and body returns the original answer (marked Idempotent-Replayed: true) and never withdraws twice.")
            .RequireIdempotencyKey<AccountSnapshot>(Render)
            .ProducesMoneyMovementProblems();

        accounts.MapPost("/{id:guid}/freeze", FreezeAsync)
            .WithName("FreezeAccount")
            .WithSummary("Freeze an account")
            .WithDescription("Stops all debits until the account is unfrozen. The body, and its reason, are optional.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        accounts.MapPost("/{id:guid}/unfreeze", UnfreezeAsync)
            .WithName("UnfreezeAccount")
            .WithSummary("Unfreeze an account")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        return app;
    }

    private static RouteHandlerBuilder ProducesMoneyMovementProblems(this RouteHandlerBuilder endpoint) => endpoint
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
        .ProducesProblem(StatusCodes.Status502BadGateway)
        .ProducesProblem(StatusCodes.Status504GatewayTimeout);

    private static Ok<AccountResponse> Render(AccountSnapshot account) => TypedResults.Ok(AccountResponse.From(account));

    private static async Task<Created<AccountResponse>> OpenAsync([FromBody] OpenAccountRequest request, IGrainFactory grains)
    {
        var customerId = Require.Id(request.CustomerId, "customerId");
        var currency = Require.Currency(request.Currency, "currency");
        var product = Require.Choice<AccountProduct>(request.Product, "product");
        var overdraftLimit = Require.NonNegativeAmount(request.OverdraftLimit ?? "0", currency, "overdraftLimit");

        var account = await grains.GetGrain<ICustomerGrain>(customerId)
            .OpenAccountAsync(Guid.CreateVersion7(), currency, product, overdraftLimit.Amount);
        return TypedResults.Created($"/accounts/{account.Id}", AccountResponse.From(account));
    }

    private static async Task<Ok<AccountResponse>> GetAsync(Guid id, IGrainFactory grains) =>
        TypedResults.Ok(AccountResponse.From(await grains.GetGrain<IAccountGrain>(id).GetAsync()));

    // Through the teller, so the movement is one transaction named by the movement's id, posted to the ledger.
    private static async Task<Ok<AccountResponse>> DepositAsync(Guid id, [FromBody] MoneyMovementRequest request, MoneyMovement movement, IGrainFactory grains)
    {
        var amount = Require.PositiveAmount(request.Amount, "amount");
        var order = new CashOrder(movement.Id, id, amount, movement.Stamp(StatusCodes.Status200OK));
        return Render(await grains.GetGrain<ITellerGrain>(Tellers.For(id)).DepositAsync(order));
    }

    private static async Task<Ok<AccountResponse>> WithdrawAsync(Guid id, [FromBody] MoneyMovementRequest request, MoneyMovement movement, IGrainFactory grains)
    {
        var amount = Require.PositiveAmount(request.Amount, "amount");
        var order = new CashOrder(movement.Id, id, amount, movement.Stamp(StatusCodes.Status200OK));
        return Render(await grains.GetGrain<ITellerGrain>(Tellers.For(id)).WithdrawAsync(order));
    }

    private static async Task<Ok<AccountResponse>> FreezeAsync(Guid id, [FromBody] FreezeRequest? request, IGrainFactory grains)
    {
        var reason = Require.OptionalText(request?.Reason, "reason", Require.MaxReasonLength) ?? "";
        return TypedResults.Ok(AccountResponse.From(await grains.GetGrain<IAccountGrain>(id).FreezeAsync(reason)));
    }

    private static async Task<Ok<AccountResponse>> UnfreezeAsync(Guid id, IGrainFactory grains) =>
        TypedResults.Ok(AccountResponse.From(await grains.GetGrain<IAccountGrain>(id).UnfreezeAsync()));
}
