using BankGrains.Grains.Interfaces;
using BankGrains.Runtime.Transactions;

namespace BankGrains.Grains.Tests.Transfers;

/// <summary>How one transfer order ended, as its caller saw it.</summary>
internal enum Fate
{
    /// <summary>A receipt came back.</summary>
    Committed,
    /// <summary>The bank refused it (BankException); nothing may have moved.</summary>
    Rejected,
    /// <summary>TransactionAbortedException: nothing may have moved.</summary>
    Aborted,
    /// <summary>In doubt or an infrastructure error: the outcome must be resolved by id.</summary>
    Unknown,
    /// <summary>Another run of the same transfer id had already committed: this run changed nothing.</summary>
    AlreadyCommitted,
}

internal sealed record TransferAttempt(TransferOrder Order, Fate Fate, BankErrorCode? Code = null, Exception? Error = null);

/// <summary>
/// Random concurrent transfers among a set of accounts, sent to the tellers of every silo by many
/// callers at once. Each order is generated from (seed, index) alone, so a failing run can be replayed.
/// </summary>
internal static class TransferWorkload
{
    /// <summary>What a caller does after TransactionAbortedException.</summary>
    public enum Retry
    {
        /// <summary>Sends the same order (same id) again, up to a limit: a new attempt of the same transaction.</summary>
        SameOrder,
        /// <summary>Records the aborted order and sends a copy under a new id (its abort may have been recorded for good).</summary>
        NewOrder,
    }

    public const decimal TooLarge = 1_000_000m;

    public static TransferOrder RandomOrder(IReadOnlyList<OpenedAccount> accounts, int seed, int index)
    {
        var random = new Random(HashCode.Combine(seed, index));
        var fromIndex = random.Next(accounts.Count);
        var from = accounts[fromIndex];
        // About 1 in 20 names the same account twice (Validation); the rest pick a different one.
        var to = random.Next(20) == 0 ? from : accounts[(fromIndex + 1 + random.Next(accounts.Count - 1)) % accounts.Count];
        // About 1 in 12 is far beyond any balance plus overdraft (InsufficientFunds); the rest are 0.01 .. 80.00.
        var amount = random.Next(12) == 0 ? TooLarge : random.Next(1, 8_001) / 100m;
        return new TransferOrder(Guid.NewGuid(), from.Id, to.Id, new Money(amount, from.Currency), $"w{seed}-{index}");
    }

    /// <summary>
    /// Sends <paramref name="count"/> random orders through <paramref name="callers"/> concurrent callers
    /// (caller i uses the teller of silo i), retrying aborts like a client. Returns every attempt
    /// that ended (with <see cref="Retry.NewOrder"/>, aborted attempts are listed too).
    /// <paramref name="onEnded"/> gets the number of orders finished so far, after each one.
    /// </summary>
    public static async Task<IReadOnlyList<TransferAttempt>> RunAsync(TransferBank bank, IReadOnlyList<OpenedAccount> accounts,
        int count, int callers, int seed, Retry retry, int maxAttemptsPerOrder = 200, Action<int>? onEnded = null)
    {
        var done = 0;
        var next = -1;
        var attempts = new List<TransferAttempt>();
        var gate = new object();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
        {
            var teller = bank.Teller(caller);
            var random = new Random(HashCode.Combine(seed, caller, "backoff"));
            int index;
            while ((index = Interlocked.Increment(ref next)) < count)
            {
                var order = RandomOrder(accounts, seed, index);
                for (var attempt = 1; ; attempt++)
                {
                    var ended = await SendAsync(teller, order);
                    if (ended.Fate == Fate.Aborted && attempt < maxAttemptsPerOrder)
                    {
                        if (retry == Retry.NewOrder)
                        {
                            lock (gate) attempts.Add(ended);
                            order = order with { TransferId = Guid.NewGuid() };
                        }
                        await Task.Delay(random.Next(0, 3));
                        continue;
                    }
                    lock (gate) attempts.Add(ended);
                    onEnded?.Invoke(Interlocked.Increment(ref done));
                    break;
                }
            }
        })));
        return attempts;
    }

    public static async Task<TransferAttempt> SendAsync(ITellerGrain teller, TransferOrder order)
    {
        try
        {
            var receipt = await teller.TransferAsync(order);
            if (receipt.Id != order.TransferId || receipt.Amount != order.Amount)
                throw new InvalidOperationException($"Receipt {receipt} does not match order {order}.");
            return new TransferAttempt(order, Fate.Committed);
        }
        catch (BankException refused)
        {
            return new TransferAttempt(order, Fate.Rejected, refused.Code, refused);
        }
        catch (TransactionAbortedException aborted)
        {
            return new TransferAttempt(order, Fate.Aborted, Error: aborted);
        }
        catch (TransactionAlreadyCommittedException duplicate)
        {
            return new TransferAttempt(order, Fate.AlreadyCommitted, Error: duplicate);
        }
        catch (Exception other)
        {
            return new TransferAttempt(order, Fate.Unknown, Error: other);
        }
    }
}
