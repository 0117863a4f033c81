using System.Reflection;
using BankGrains.Grains.Interfaces;

namespace BankGrains.Api.Movements;

/// <summary>
/// The money movement a POST starts. The API names it (a version 7 GUID, so its age is known): the
/// teller runs it as one transaction under <see cref="Id"/>, so a movement whose answer was lost can be
/// looked up and settled by id. Bound as an endpoint parameter, and kept in the request's features so
/// the idempotency filter and the exception handler see the same movement.
/// </summary>
public sealed class MoneyMovement
{
    private string? _idempotencyKey;
    private string? _requestHash;

    private MoneyMovement(Guid id) => Id = id;

    public Guid Id { get; }

    /// <summary>Where the movement's outcome can be read ("/transfers/{id}"), when it has such a resource.</summary>
    public string? StatusLink { get; internal set; }

    /// <summary>
    /// The stamp that commits the answer (with <paramref name="statusCode"/>) under the request's
    /// Idempotency-Key in the same commit as the money; null before the key is claimed.
    /// </summary>
    public IdempotencyStamp? Stamp(int statusCode) =>
        _idempotencyKey is null ? null : new IdempotencyStamp(_idempotencyKey, _requestHash!, statusCode);

    internal void Claimed(string idempotencyKey, string requestHash)
    {
        _idempotencyKey = idempotencyKey;
        _requestHash = requestHash;
    }

    /// <summary>Minimal APIs' custom binding: a new movement per request.</summary>
    public static ValueTask<MoneyMovement?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        var movement = new MoneyMovement(Guid.CreateVersion7());
        context.Features.Set(movement);
        return ValueTask.FromResult<MoneyMovement?>(movement);
    }
}
