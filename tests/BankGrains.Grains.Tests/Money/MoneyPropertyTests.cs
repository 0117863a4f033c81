using System.Text.Json;
using System.Text.RegularExpressions;
using BankGrains.Grains.Interfaces;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace BankGrains.Grains.Tests.MoneyTests;

public sealed class MoneyPropertyTests
{
    private const long LargestWhole = 999_999_999_999_999; // 10^15 - 1

    private static readonly string[] FocusCodes = ["USD", "JPY", "BHD", "CLF"];

    private static readonly Regex PlainDecimal = new(@"\A-?[0-9]+(\.[0-9]+)?\z", RegexOptions.CultureInvariant);

    /// <summary>Whole parts from 0 to <paramref name="maxWhole"/>, biased towards small ones but reaching the top.</summary>
    private static Gen<long> Whole(long maxWhole) =>
        Gen.Frequency(
                (4, Gen.Choose(0, 1_000).Select(i => (long)i)),
                (2, Gen.Choose(0, int.MaxValue).Select(i => (long)i)),
                (3, from high in Gen.Choose(0, 999_999)
                    from low in Gen.Choose(0, 999_999_999)
                    select high * 1_000_000_000L + low),
                (1, Gen.Constant(maxWhole)))
            .Select(w => w % (maxWhole + 1));

    /// <summary>Valid amounts in <paramref name="currency"/> with a whole part of at most <paramref name="maxWhole"/>.</summary>
    private static Gen<Money> MoneyIn(Currency currency, long maxWhole = LargestWhole)
    {
        var unitsPerWhole = (int)Math.Pow(10, currency.MinorUnits);
        return from whole in Whole(maxWhole)
               from fraction in Gen.Frequency((1, Gen.Constant(0)), (3, Gen.Choose(0, unitsPerWhole - 1)))
               from negative in Gen.Elements(false, true)
               let magnitude = whole + (decimal)fraction / unitsPerWhole
               select new Money(negative ? -magnitude : magnitude, currency);
    }

    private static Gen<Money> MoneyInAnyCurrency(long maxWhole = LargestWhole) =>
        Gen.Elements(Currency.All.ToArray()).SelectMany(c => MoneyIn(c, maxWhole));

    private static Gen<(Money A, Money B)> PairInOneCurrency(Gen<Currency> currencies, long maxWhole) =>
        from currency in currencies
        from a in MoneyIn(currency, maxWhole)
        from b in MoneyIn(currency, maxWhole)
        select (a, b);

    private static Gen<Currency> FocusOrAny =>
        Gen.OneOf(Gen.Elements(FocusCodes.Select(Currency.Parse).ToArray()), Gen.Elements(Currency.All.ToArray()));

    [Fact]
    public void ParseOfFormat_IsIdentity_ForEachFocusCurrency()
    {
        foreach (var code in FocusCodes)
        {
            Prop.ForAll(MoneyIn(Currency.Parse(code)).ToArbitrary(), money =>
                    Money.Parse(money.AmountString, money.Currency.Code) == money
                    && Money.Parse(money.AmountString, money.Currency.Code).AmountString == money.AmountString
                    && money.Amount.Scale == money.Currency.MinorUnits)
                .QuickCheckThrowOnFailure();
        }
    }

    [Fact]
    public void ParseOfFormat_And_JsonRoundTrip_AreIdentity_ForAllCurrencies()
    {
        Prop.ForAll(MoneyInAnyCurrency().ToArbitrary(), money =>
            {
                var parsed = Money.Parse(money.AmountString, money.Currency.Code);
                var json = JsonSerializer.Serialize(money);
                var fromJson = JsonSerializer.Deserialize<Money>(json);
                return parsed == money && fromJson == money && json.Contains($"\"amount\":\"{money.AmountString}\"");
            })
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void TrailingZeros_DoNotChangeTheValue()
    {
        var gen = from money in MoneyInAnyCurrency()
                  from zeros in Gen.Choose(1, 20)
                  select (money, zeros);

        Prop.ForAll(gen.ToArbitrary(), t =>
            {
                var text = t.money.AmountString + (t.money.Currency.MinorUnits == 0 ? "." : "") + new string('0', t.zeros);
                var parsed = Money.Parse(text, t.money.Currency.Code);
                return parsed == t.money && parsed.AmountString == t.money.AmountString;
            })
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void AddThenSubtract_IsIdentity()
    {
        Prop.ForAll(PairInOneCurrency(FocusOrAny, LargestWhole / 2).ToArbitrary(), pair =>
                pair.A + pair.B - pair.B == pair.A && pair.A - pair.B + pair.B == pair.A)
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Addition_IsCommutative()
    {
        Prop.ForAll(PairInOneCurrency(FocusOrAny, LargestWhole / 2).ToArbitrary(), pair =>
                pair.A + pair.B == pair.B + pair.A
                && (pair.A + pair.B).Amount.Scale == pair.A.Currency.MinorUnits)
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Ordering_AgreesWithSubtraction()
    {
        Prop.ForAll(PairInOneCurrency(FocusOrAny, LargestWhole / 2).ToArbitrary(), pair =>
                (pair.A < pair.B) == (pair.A - pair.B).IsNegative
                && (pair.A >= pair.B) == !(pair.A - pair.B).IsNegative
                && (pair.A == pair.B) == (pair.A - pair.B).IsZero)
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void DifferentCurrencies_AlwaysMismatch()
    {
        var gen = from a in MoneyInAnyCurrency(LargestWhole / 2)
                  from b in MoneyInAnyCurrency(LargestWhole / 2)
                  where a.Currency != b.Currency
                  select (a, b);

        Prop.ForAll(gen.ToArbitrary(), pair =>
            {
                var error = Assert.Throws<BankException>(() => pair.a + pair.b);
                Assert.Equal(BankErrorCode.CurrencyMismatch, error.Code);
                Assert.NotEqual(pair.a, pair.b);
            })
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void TooManyDecimals_AreAlwaysRejected()
    {
        // A valid amount with one to six extra decimal digits, the last of them not zero.
        var gen = from money in Gen.OneOf(
                      Gen.Elements(FocusCodes.Select(Currency.Parse).ToArray()).SelectMany(c => MoneyIn(c)),
                      MoneyInAnyCurrency())
                  from middle in Gen.Choose(0, 5).SelectMany(n => Gen.ArrayOf(Gen.Elements("0123456789".ToCharArray()), n))
                  from last in Gen.Elements("123456789".ToCharArray())
                  select (money, extra: new string(middle) + last);

        Prop.ForAll(gen.ToArbitrary(), t =>
            {
                var (money, extra) = t;
                var minorUnits = money.Currency.MinorUnits;
                var text = money.AmountString + (minorUnits == 0 ? "." : "") + extra;

                var fromString = Assert.Throws<BankException>(() => Money.Parse(text, money.Currency.Code));
                Assert.Equal(BankErrorCode.InvalidAmount, fromString.Code);
                Assert.StartsWith($"{money.Currency.Code} amounts have ", fromString.Message);
                Assert.EndsWith($"; got '{text}'.", fromString.Message);

                var fromDecimal = Assert.Throws<BankException>(() => new Money(decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture), money.Currency));
                Assert.Equal(BankErrorCode.InvalidAmount, fromDecimal.Code);
            })
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void ArbitraryStrings_ParseOnlyWhenPlainDecimal()
    {
        var gen = Gen.Choose(0, 12)
            .SelectMany(n => Gen.ArrayOf(Gen.Elements("0123456789.-+eE, _\u00a0\u2212".ToCharArray()), n))
            .Select(chars => new string(chars));

        Prop.ForAll(gen.ToArbitrary(), text =>
            {
                if (!PlainDecimal.IsMatch(text))
                {
                    var error = Assert.Throws<BankException>(() => Money.Parse(text, "CLF"));
                    Assert.Equal(BankErrorCode.InvalidAmount, error.Code);
                    return;
                }

                try
                {
                    var money = Money.Parse(text, "CLF");
                    Assert.Equal(decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture), money.Amount);
                }
                catch (BankException error)
                {
                    // Well-formed but too precise for CLF's four decimals.
                    Assert.Equal(BankErrorCode.InvalidAmount, error.Code);
                    Assert.StartsWith("CLF amounts have at most 4 decimal places", error.Message);
                }
            })
            .QuickCheckThrowOnFailure();
    }
}
