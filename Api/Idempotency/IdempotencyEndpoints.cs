using System.Text.Json;
using BankGrains.Runtime.Serialization;

namespace BankGrains.Api.Idempotency;

/// <summary>Marks an endpoint as requiring an Idempotency-Key (read by the OpenAPI document).</summary>
public sealed class IdempotencyKeyMetadata;

public static class IdempotencyEndpoints
{
    /// <summary>
    /// Runs the endpoint at most once per Idempotency-Key (see <see cref="IdempotencyFilter"/>). The endpoint
    /// takes a <see cref="Movements.MoneyMovement"/> and passes its stamp to the teller; <paramref name="render"/>
    /// turns the teller's answer into the response, both the first time and when the stored answer is replayed,
    /// so a replay is the same response. <paramref name="statusLink"/> gives the URL of a movement's outcome.
    /// </summary>
    public static RouteHandlerBuilder RequireIdempotencyKey<TAnswer>(this RouteHandlerBuilder endpoint, Func<TAnswer, IResult> render,
        Func<Guid, string>? statusLink = null) =>
        endpoint
            .WithMetadata(new IdempotencyKeyMetadata())
            // The stored answer is the teller's result as the grains serialise it.
            .AddEndpointFilter(new IdempotencyFilter(body => render(JsonSerializer.Deserialize<TAnswer>(body, GrainJson.Options)!), statusLink))
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
}
