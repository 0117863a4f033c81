using BankGrains.Grains.Interfaces;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace BankGrains.Grains.Tests.Transfers;

/// <summary>
/// Random sequences of transfers, deposits, withdrawals and freezes among three accounts (two in USD,
/// one in EUR, so some transfers fail on the credit leg after the debit leg succeeded) run against the
/// real grains and against a model in integer cents: every outcome and every balance must agree.
/// Single-account behaviour is AccountModelPropertyTests' job; this is about movements between accounts.
/// </summary>
public sealed class TransferModelPropertyTests
{
    private enum Kind { Transfer, Deposit, Withdraw, Freeze, Unfreeze }

    /// <param name="OtherCurrency">The amount is in the other currency than the (source) account's.</param>
    private sealed record Op(Kind Kind, int From, int To, long Cents, bool OtherCurrency)
    {
        public override string ToString() => Kind switch
        {
            Kind.Transfer => $"Transfer {From}->{To} {Cents}{(OtherCurrency ? " other-ccy" : "")}",
            Kind.Deposit or Kind.Withdraw => $"{Kind} {From} {Cents}{(OtherCurrency ? " other-ccy" : "")}",
            _ => $"{Kind} {From}",
        };
    }

    private static readonly Currency[] Currencies = [Currency.USD, Currency.USD, Currency.EUR];

    private static Currency AmountCurrency(int account, bool other) =>
        other ? (Currencies[account] == Currency.USD ? Currency.EUR : Currency.USD) : Currencies[account];

    /// <summary>Three accounts in integer cents, and the bank's rules in the order the bank checks them.</summary>
    private sealed class Model(long[] overdrafts)
    {
        public readonly long[] Balances = new long[3];
        public readonly bool[] Frozen = new bool[3];
        public readonly Dictionary<Currency, long> Cash = new() { [Currency.USD] = 0, [Currency.EUR] = 0 };

        public BankErrorCode? Apply(Op op)
        {
            var currency = AmountCurrency(op.From, op.OtherCurrency);
            switch (op.Kind)
            {
                case Kind.Transfer:
                    // The teller checks the order, then the debit leg runs, then the credit leg; any refusal undoes both.
                    if (op.From == op.To) return BankErrorCode.Validation;
                    if (op.Cents <= 0) return BankErrorCode.InvalidAmount;
                    if (CanDebit(op.From, currency, op.Cents) is { } debitRefused) return debitRefused;
                    if (currency != Currencies[op.To]) return BankErrorCode.CurrencyMismatch;
                    Balances[op.From] -= op.Cents;
                    Balances[op.To] += op.Cents;
                    return null;
                case Kind.Deposit:
                    if (currency != Currencies[op.From]) return BankErrorCode.CurrencyMismatch;
                    if (op.Cents <= 0) return BankErrorCode.InvalidAmount;
                    Balances[op.From] += op.Cents;
                    Cash[currency] -= op.Cents;
                    return null;
                case Kind.Withdraw:
                    if (CanDebit(op.From, currency, op.Cents) is { } refused) return refused;
                    Balances[op.From] -= op.Cents;
                    Cash[currency] += op.Cents;
                    return null;
                case Kind.Freeze:
                    Frozen[op.From] = true;
                    return null;
                default:
                    Frozen[op.From] = false;
                    return null;
            }
        }

        private BankErrorCode? CanDebit(int account, Currency currency, long cents)
        {
            if (Frozen[account]) return BankErrorCode.AccountFrozen;
            if (currency != Currencies[account]) return BankErrorCode.CurrencyMismatch;
            if (cents <= 0) return BankErrorCode.InvalidAmount;
            if (Balances[account] - cents < -overdrafts[account]) return BankErrorCode.InsufficientFunds;
            return null;
        }
    }

    private static readonly Gen<int> Account = Gen.Choose(0, 2);
    private static readonly Gen<bool> MostlySameCurrency = Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)));

    private static readonly Gen<Op> Ops = Gen.Frequency(
        (8, from source in Account
            from target in Account
            from cents in Gen.Frequency((9, Gen.Choose(1, 40_000)), (1, Gen.Choose(-100, 0)))
            from other in MostlySameCurrency
            select new Op(Kind.Transfer, source, target, cents, other)),
        (3, from account in Account
            from cents in Gen.Frequency((9, Gen.Choose(1, 30_000)), (1, Gen.Choose(-100, 0)))
            from other in MostlySameCurrency
            select new Op(Kind.Deposit, account, account, cents, other)),
        (2, from account in Account
            from cents in Gen.Choose(-100, 40_000)
            from other in MostlySameCurrency
            select new Op(Kind.Withdraw, account, account, cents, other)),
        (1, Account.Select(a => new Op(Kind.Freeze, a, a, 0, false))),
        (1, Account.Select(a => new Op(Kind.Unfreeze, a, a, 0, false))));

    [Fact]
    public async Task Transfers_among_three_accounts_behave_like_the_model()
    {
        await using var bank = await TransferBank.StartInMemoryAsync(silos: 1);
        var cashModel = new Dictionary<Currency, long> { [Currency.USD] = 0, [Currency.EUR] = 0 };
        var scenario =
            from overdrafts in Gen.ArrayOf(Gen.Elements(0L, 5_000L, 20_000L), 3)
            from count in Gen.Choose(1, 30)
            from ops in Gen.ArrayOf(Ops, count)
            select (overdrafts, ops);

        Prop.ForAll(scenario.ToArbitrary(), s =>
        {
            var (overdrafts, ops) = s;
            var accounts = OpenAsync(bank, overdrafts).GetAwaiter().GetResult();
            var model = new Model(overdrafts);
            foreach (var op in ops)
            {
                var expected = model.Apply(op);
                var actual = RunAsync(bank, accounts, op).GetAwaiter().GetResult();
                if (expected != actual) return false.Label($"{op}: model says {Text(expected)}, bank says {Text(actual)}");
            }
            foreach (var currency in cashModel.Keys) cashModel[currency] += model.Cash[currency];
            return AgreeAsync(bank, accounts, model, cashModel).GetAwaiter().GetResult();
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(40));

        var verification = await bank.Ledger.VerifyAsync();
        Assert.True(verification.Ok, string.Join("\n", verification.Problems));
    }

    private static string Text(BankErrorCode? code) => code?.ToString() ?? "success";

    private static async Task<Guid[]> OpenAsync(TransferBank bank, long[] overdrafts)
    {
        var ids = new Guid[3];
        for (var i = 0; i < 3; i++)
            ids[i] = (await bank.OpenFundedAccountsAsync(Currencies[i], (overdrafts[i] / 100m, 0m)))[0].Id;
        return ids;
    }

    private static async Task<BankErrorCode?> RunAsync(TransferBank bank, Guid[] accounts, Op op)
    {
        var amount = new Money(op.Cents / 100m, AmountCurrency(op.From, op.OtherCurrency));
        try
        {
            switch (op.Kind)
            {
                case Kind.Transfer:
                    await bank.Teller(0).TransferAsync(new TransferOrder(Guid.NewGuid(), accounts[op.From], accounts[op.To], amount, "model"));
                    break;
                case Kind.Deposit:
                    await bank.Teller(0).DepositAsync(new CashOrder(Guid.NewGuid(), accounts[op.From], amount));
                    break;
                case Kind.Withdraw:
                    await bank.Teller(0).WithdrawAsync(new CashOrder(Guid.NewGuid(), accounts[op.From], amount));
                    break;
                case Kind.Freeze:
                    await bank.Account(accounts[op.From]).FreezeAsync("model");
                    break;
                case Kind.Unfreeze:
                    await bank.Account(accounts[op.From]).UnfreezeAsync();
                    break;
            }
            return null;
        }
        catch (BankException error)
        {
            return error.Code;
        }
    }

    /// <summary>Balances as the model says, in the grains and in the journal; the cash accounts mirror every deposit and withdrawal.</summary>
    private static async Task<Property> AgreeAsync(TransferBank bank, Guid[] accounts, Model model, Dictionary<Currency, long> cash)
    {
        for (var i = 0; i < 3; i++)
        {
            var expected = model.Balances[i] / 100m;
            var balance = (await bank.Account(accounts[i]).GetAsync()).Balance.Amount;
            var entries = await LedgerInvariants.ReadAllEntriesAsync(bank.Ledger, LedgerAccounts.ForAccount(accounts[i]));
            var journal = entries.Sum(e => e.Amount);
            var last = entries.Count == 0 ? 0m : entries[^1].BalanceAfter;
            if (balance != expected || journal != expected || last != expected)
                return false.Label($"account {i}: model {expected}, grain {balance}, journal sum {journal}, last balance after {last}");
        }
        foreach (var (currency, cents) in cash)
        {
            var actual = (await bank.Cash(currency).GetBalanceAsync()).Amount;
            if (actual != cents / 100m) return false.Label($"cash {currency}: model {cents / 100m}, grain {actual}");
        }
        return true.ToProperty();
    }

    // ---- the rules alone -------------------------------------------------------------------------

    private static readonly Gen<AccountState> States =
        from isOpen in Gen.Frequency((9, Gen.Constant(true)), (1, Gen.Constant(false)))
        from status in Gen.Elements(AccountStatus.Active, AccountStatus.Active, AccountStatus.Frozen, AccountStatus.Closed)
        from currency in Gen.Elements(Currency.USD, Currency.EUR)
        from balance in Gen.Choose(-20_000, 50_000)
        from overdraft in Gen.Elements(0, 0, 1_000, 20_000)
        select new AccountState
        {
            IsOpen = isOpen,
            Status = status,
            Currency = currency,
            Balance = new Money(balance / 100m, currency),
            OverdraftLimit = new Money(overdraft / 100m, currency),
        };

    /// <summary>
    /// The pure rules against the model: for any source and target state and amount, the debit leg's
    /// and then the credit leg's refusal is exactly the model's, and an allowed debit never takes the
    /// balance below the overdraft.
    /// </summary>
    [Fact]
    public void Debit_and_credit_rules_agree_with_the_model_for_a_transfer_between_any_two_states()
    {
        var cases =
            from source in States
            from target in States
            from cents in Gen.Choose(-100, 80_000)
            from currency in Gen.Elements(Currency.USD, Currency.EUR)
            select (source, target, cents, currency);

        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var (source, target, cents, currency) = c;
            var amount = new Money(cents / 100m, currency);
            var expected = ExpectedDebit(source, amount) ?? ExpectedCredit(target, amount);
            var actual = Refusal(() => AccountRules.EnsureCanDebit(source, Guid.NewGuid(), amount))
                         ?? Refusal(() => AccountRules.EnsureCanCredit(target, Guid.NewGuid(), amount));
            var withinLimit = ExpectedDebit(source, amount) is not null || source.Balance - amount >= -source.OverdraftLimit;
            return (expected == actual && withinLimit).Label($"model {Text(expected)}, rules {Text(actual)}");
        }).QuickCheckThrowOnFailure();
    }

    private static BankErrorCode? ExpectedDebit(AccountState s, Money amount)
    {
        if (!s.IsOpen) return BankErrorCode.NotFound;
        if (s.Status == AccountStatus.Closed) return BankErrorCode.AccountClosed;
        if (s.Status == AccountStatus.Frozen) return BankErrorCode.AccountFrozen;
        if (amount.Currency != s.Currency) return BankErrorCode.CurrencyMismatch;
        if (amount.Amount <= 0) return BankErrorCode.InvalidAmount;
        if (s.Balance.Amount - amount.Amount < -s.OverdraftLimit.Amount) return BankErrorCode.InsufficientFunds;
        return null;
    }

    private static BankErrorCode? ExpectedCredit(AccountState s, Money amount)
    {
        if (!s.IsOpen) return BankErrorCode.NotFound;
        if (s.Status == AccountStatus.Closed) return BankErrorCode.AccountClosed;
        // Frozen accounts still take credits.
        if (amount.Currency != s.Currency) return BankErrorCode.CurrencyMismatch;
        if (amount.Amount <= 0) return BankErrorCode.InvalidAmount;
        return null;
    }

    private static BankErrorCode? Refusal(Action rule)
    {
        try
        {
            rule();
            return null;
        }
        catch (BankException error)
        {
            return error.Code;
        }
    }
}
