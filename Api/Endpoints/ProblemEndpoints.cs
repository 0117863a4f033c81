using BankGrains.Api.Contracts;
using BankGrains.Api.Problems;
using BankGrains.Grains.Interfaces;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BankGrains.Api.Endpoints;

/// <summary>/problems: what each error "type" URI means.</summary>
public static class ProblemEndpoints
{
    public static IEndpointRouteBuilder MapProblemEndpoints(this IEndpointRouteBuilder app)
    {
        var problems = app.MapGroup("/problems").WithTags("Problems");

        problems.MapGet("", () => TypedResults.Ok(ProblemTypes.All.Select(ToResponse).ToArray()))
            .WithName("ListProblemTypes")
            .WithSummary("List the problem types the API answers with");

        problems.MapGet("/{code}", GetProblemType)
            .WithName("GetProblemType")
            .WithSummary("Describe one problem type")
            .WithDescription("code is the last segment of an error's \"type\" (insufficient-funds) or its \"code\" extension (insufficientFunds).")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return app;
    }

    private static Ok<ProblemTypeResponse> GetProblemType(string code) =>
        ProblemTypes.TryFind(code, out var problem)
            ? TypedResults.Ok(ToResponse(problem))
            : throw new BankException(BankErrorCode.NotFound, $"There is no problem type '{(code.Length <= 40 ? code : code[..40] + "…")}'; GET /problems lists them.");

    private static ProblemTypeResponse ToResponse(ProblemType problem) =>
        new(problem.Type, problem.Code, problem.Status, problem.Title, problem.Description);
}
