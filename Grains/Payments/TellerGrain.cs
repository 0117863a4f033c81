using System.Text.Json;
using BankGrains.Grains.Interfaces;
using BankGrains.Runtime;
using BankGrains.Runtime.Serialization;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Grains;

/// <summary>
/// Runs the channels' money movements as transactions named by the order id. When the order carries
/// an idempotency key, the answer is recorded in the same commit as the movement, so a retry finds
/// both or neither.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class TellerGrain(ITransactionClient transactions, TimeProvider clock) : Grain, ITellerGrain
{
    public Task<TransferReceipt> TransferAsync(TransferOrder order)
    {
        if (order.FromAccountId == order.ToAccountId)
            throw new BankException(BankErrorCode.Validation, "A transfer needs two different accounts: fromAccountId and toAccountId are the same.");
        if (!order.Amount.IsPositive)
            throw new BankException(BankErrorCode.InvalidAmount, $"The amount must be positive; got {order.Amount}.");

        return transactions.RunTransaction(TransactionOption.Create, async () =>
        {
            await GrainFactory.GetGrain<IAccountGrain>(order.FromAccountId).DebitAsync(order.Amount);
            await GrainFactory.GetGrain<IAccountGrain>(order.ToAccountId).CreditAsync(order.Amount);
            var receipt = new TransferReceipt(order.TransferId, order.FromAccountId, order.ToAccountId, order.Amount, order.Reference,
                JournalHash.TruncateToMicroseconds(clock.GetUtcNow()));
            Journal.Describe("transfer", order.Reference,
                new { fromAccountId = order.FromAccountId, toAccountId = order.ToAccountId, amount = order.Amount }, receipt.CreatedAt);
            Journal.Emit("transfer.completed", order.TransferId.ToString(), receipt, receipt.CreatedAt);
            KeepAnswer(order.Idempotency, receipt);
            return receipt;
        }, order.TransferId);
    }

    public Task<AccountSnapshot> DepositAsync(CashOrder order) =>
        transactions.RunTransaction(TransactionOption.Create, async () =>
        {
            var account = await GrainFactory.GetGrain<IAccountGrain>(order.AccountId).DepositAsync(order.Amount);
            KeepAnswer(order.Idempotency, account);
            return account;
        }, order.MovementId);

    public Task<AccountSnapshot> WithdrawAsync(CashOrder order) =>
        transactions.RunTransaction(TransactionOption.Create, async () =>
        {
            var account = await GrainFactory.GetGrain<IAccountGrain>(order.AccountId).WithdrawAsync(order.Amount);
            KeepAnswer(order.Idempotency, account);
            return account;
        }, order.MovementId);

    private static void KeepAnswer<T>(IdempotencyStamp? stamp, T answer)
    {
        if (stamp is null) return;
        var body = JsonSerializer.Serialize(answer, GrainJson.Options);
        TransactionContext.Current!.AddRecords(r => r.Idempotency = new IdempotencyRecord(stamp.Key, stamp.RequestHash, stamp.StatusCode, body));
    }
}
