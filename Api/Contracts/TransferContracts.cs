using System.ComponentModel;
using BankGrains.Grains.Interfaces;

namespace BankGrains.Api.Contracts;

[Description("Money to move from one account to another, in both accounts' currency.")]
public sealed record TransferRequest(
    [property: Description("The account to debit (a GUID).")] string? FromAccountId,
    [property: Description("The account to credit (a GUID), not the same as fromAccountId.")] string? ToAccountId,
    [property: Description("The positive amount to move, in both accounts' currency.")] MoneyInput? Amount,
    [property: Description("Optional text for both parties' statements, at most 140 characters.")] string? Reference = null);

[Description("A completed transfer.")]
public sealed record TransferResponse(
    Guid Id,
    [property: Description("Always \"completed\": a transfer exists only once it has committed.")] string Status,
    Guid FromAccountId,
    Guid ToAccountId,
    Money Amount,
    string? Reference,
    DateTimeOffset CreatedAt)
{
    public static TransferResponse From(TransferReceipt receipt) =>
        new(receipt.Id, receipt.Status, receipt.FromAccountId, receipt.ToAccountId, receipt.Amount, receipt.Reference, receipt.CreatedAt);
}

[Description("A transfer that was aborted: it moved nothing, and never will.")]
public sealed record AbortedTransferResponse(
    Guid Id,
    [property: Description("Always \"aborted\".")] string Status)
{
    public static AbortedTransferResponse For(Guid id) => new(id, "aborted");
}
