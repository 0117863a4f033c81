using BankGrains.Api.Contracts;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BankGrains.Api.Endpoints;

/// <summary>/customers: registration, lookup and KYC.</summary>
public static class CustomerEndpoints
{
    public static IEndpointRouteBuilder MapCustomerEndpoints(this IEndpointRouteBuilder app)
    {
        var customers = app.MapGroup("/customers").WithTags("Customers");

        customers.MapPost("", CreateAsync)
            .WithName("CreateCustomer")
            .WithSummary("Register a customer")
            .WithDescription("Creates a customer at KYC level basic and returns it, with its URL in Location.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        customers.MapGet("/{id:guid}", GetAsync)
            .WithName("GetCustomer")
            .WithSummary("Get a customer")
            .ProducesProblem(StatusCodes.Status404NotFound);

        customers.MapPut("/{id:guid}/kyc", SetKycLevelAsync)
            .WithName("SetCustomerKycLevel")
            .WithSummary("Record a KYC outcome")
            .WithDescription("Sets the customer's KYC level: none (may not open accounts), basic (accounts without overdraft) or full.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        return app;
    }

    private static async Task<Created<CustomerResponse>> CreateAsync([FromBody] CreateCustomerRequest request, IGrainFactory grains)
    {
        var name = Require.Text(request.Name, "name", Require.MaxNameLength);
        var email = Require.Email(request.Email, "email");
        var customer = await grains.GetGrain<ICustomerGrain>(Guid.CreateVersion7()).CreateAsync(name, email);
        return TypedResults.Created($"/customers/{customer.Id}", CustomerResponse.From(customer));
    }

    private static async Task<Ok<CustomerResponse>> GetAsync(Guid id, IGrainFactory grains) =>
        TypedResults.Ok(CustomerResponse.From(await grains.GetGrain<ICustomerGrain>(id).GetAsync()));

    private static async Task<Ok<CustomerResponse>> SetKycLevelAsync(Guid id, [FromBody] SetKycLevelRequest request, IGrainFactory grains)
    {
        var level = Require.Choice<KycLevel>(request.Level, "level");
        return TypedResults.Ok(CustomerResponse.From(await grains.GetGrain<ICustomerGrain>(id).SetKycLevelAsync(level)));
    }
}
