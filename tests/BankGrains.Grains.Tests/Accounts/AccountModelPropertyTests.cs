using BankGrains.Grains.Interfaces;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace BankGrains.Grains.Tests.Accounts;

/// <summary>
/// Random sequences of account operations, run against the real grain and against a few lines of
/// model (integer cents), must agree on every outcome and on the final balance.
/// </summary>
public sealed class AccountModelPropertyTests
{
    private enum Kind { Deposit, Withdraw, Freeze, Unfreeze }

    private sealed record Op(Kind Kind, long Cents)
    {
        public override string ToString() => $"{Kind} {Cents}";
    }

    private sealed class Model(long overdraftCents)
    {
        public long Balance;
        public bool Frozen;

        /// <summary>The error the bank must give, or null when the operation succeeds (and is applied here).</summary>
        public BankErrorCode? Apply(Op op)
        {
            switch (op.Kind)
            {
                case Kind.Deposit when op.Cents <= 0:
                case Kind.Withdraw when op.Cents <= 0 && !Frozen:
                    return BankErrorCode.InvalidAmount;
                case Kind.Deposit:
                    Balance += op.Cents;
                    return null;
                case Kind.Withdraw when Frozen:
                    return BankErrorCode.AccountFrozen;
                case Kind.Withdraw when Balance - op.Cents < -overdraftCents:
                    return BankErrorCode.InsufficientFunds;
                case Kind.Withdraw:
                    Balance -= op.Cents;
                    return null;
                case Kind.Freeze:
                    Frozen = true;
                    return null;
                default:
                    Frozen = false;
                    return null;
            }
        }
    }

    private static readonly Gen<Op> Ops = Gen.Frequency(
        (5, Gen.Choose(-100, 50_000).Select(c => new Op(Kind.Deposit, c))),
        (5, Gen.Choose(-100, 60_000).Select(c => new Op(Kind.Withdraw, c))),
        (1, Gen.Constant(new Op(Kind.Freeze, 0))),
        (1, Gen.Constant(new Op(Kind.Unfreeze, 0))));

    [Fact]
    public async Task The_account_grain_behaves_like_the_model()
    {
        await using var cluster = await BankCluster.StartAsync();
        var scenario =
            from overdraft in Gen.Elements(0L, 10_000L)
            from ops in Gen.ListOf(Ops, 1).SelectMany(_ => Gen.Choose(1, 25)).SelectMany(n => Gen.ArrayOf(Ops, n))
            select (overdraft, ops);

        Prop.ForAll(scenario.ToArbitrary(), s =>
        {
            var (overdraft, ops) = s;
            var (_, account) = cluster.OpenAccountAsync(overdraft: overdraft / 100m, kyc: KycLevel.Full).GetAwaiter().GetResult();
            var model = new Model(overdraft);
            foreach (var op in ops)
            {
                var expected = model.Apply(op);
                var actual = Run(account, op).GetAwaiter().GetResult();
                if (expected != actual) return false;
            }
            var balance = account.GetAsync().GetAwaiter().GetResult().Balance;
            return balance == new Money(model.Balance / 100m, Currency.USD);
        }).QuickCheckThrowOnFailure();
    }

    private static async Task<BankErrorCode?> Run(IAccountGrain account, Op op)
    {
        try
        {
            var amount = new Money(op.Cents / 100m, Currency.USD);
            switch (op.Kind)
            {
                case Kind.Deposit: await account.DepositAsync(amount); break;
                case Kind.Withdraw: await account.WithdrawAsync(amount); break;
                case Kind.Freeze: await account.FreezeAsync("model"); break;
                case Kind.Unfreeze: await account.UnfreezeAsync(); break;
            }
            return null;
        }
        catch (BankException error)
        {
            return error.Code;
        }
    }
}
