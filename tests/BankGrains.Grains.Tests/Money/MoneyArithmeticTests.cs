using BankGrains.Grains.Interfaces;
using Xunit;

namespace BankGrains.Grains.Tests.MoneyTests;

public sealed class MoneyArithmeticTests
{
    private static Money Usd(string amount) => Money.Parse(amount, "USD");

    private static Money Eur(string amount) => Money.Parse(amount, "EUR");

    [Fact]
    public void Zero_IsZeroInTheCurrency()
    {
        var zero = Money.Zero(Currency.BHD);

        Assert.True(zero.IsZero);
        Assert.False(zero.IsPositive);
        Assert.False(zero.IsNegative);
        Assert.Equal("0.000 BHD", zero.ToString());
    }

    [Fact]
    public void Signs()
    {
        Assert.True(Usd("0.01").IsPositive);
        Assert.False(Usd("0.01").IsNegative);
        Assert.True(Usd("-0.01").IsNegative);
        Assert.False(Usd("-0.01").IsPositive);
        Assert.False(Usd("-0.01").IsZero);
    }

    [Fact]
    public void Addition_And_Subtraction()
    {
        Assert.Equal(Usd("3.75"), Usd("1.50") + Usd("2.25"));
        Assert.Equal(Usd("-0.75"), Usd("1.50") - Usd("2.25"));
        Assert.Equal("3.75 USD", (Usd("1.5") + Usd("2.25")).ToString());
        Assert.Equal(Money.Parse("300", "JPY"), Money.Parse("100", "JPY") + Money.Parse("200", "JPY"));
        Assert.Equal(Money.Parse("0.002", "BHD"), Money.Parse("0.003", "BHD") - Money.Parse("0.001", "BHD"));
        Assert.Equal(2, (Usd("0.10") + Usd("0.20")).Amount.Scale);
        Assert.Equal(Usd("0.30"), Usd("0.10") + Usd("0.20"));
    }

    [Fact]
    public void Negation()
    {
        Assert.Equal(Usd("-5.00"), -Usd("5"));
        Assert.Equal(Usd("5.00"), -Usd("-5"));
        Assert.Equal("-5.00", (-Usd("5")).AmountString);
    }

    [Fact]
    public void Comparisons()
    {
        var small = Usd("1.00");
        var large = Usd("2.00");

        Assert.True(small < large);
        Assert.True(large > small);
        Assert.True(small <= large);
        Assert.True(small <= Usd("1"));
        Assert.True(large >= small);
        Assert.True(large >= Usd("2.0"));
        Assert.False(small > large);
        Assert.False(large < small);
        Assert.True(Usd("-3") < Money.Zero(Currency.USD));
        Assert.Equal(-1, Math.Sign(small.CompareTo(large)));
        Assert.Equal(0, small.CompareTo(Usd("1.0")));
        Assert.Equal(new[] { Usd("-1"), Usd("0"), Usd("2") }, new[] { Usd("2"), Usd("-1"), Usd("0") }.Order());
    }

    public static TheoryData<string, Func<Money, Money, object>> MismatchedOperations => new()
    {
        { "add", (a, b) => a + b },
        { "subtract", (a, b) => a - b },
        { "compare", (a, b) => a < b },
        { "compare", (a, b) => a > b },
        { "compare", (a, b) => a <= b },
        { "compare", (a, b) => a >= b },
        { "compare", (a, b) => a.CompareTo(b) },
    };

    [Theory]
    [MemberData(nameof(MismatchedOperations))]
    public void DifferentCurrencies_ThrowCurrencyMismatch(string verb, Func<Money, Money, object> operation)
    {
        var error = Assert.Throws<BankException>(() => operation(Usd("1.00"), Eur("1.00")));

        Assert.Equal(BankErrorCode.CurrencyMismatch, error.Code);
        Assert.Equal($"Cannot {verb} amounts in different currencies (USD and EUR).", error.Message);
    }

    [Fact]
    public void Overflow_ThrowsInvalidAmount()
    {
        var big = Usd("999999999999999.99");

        var sum = Assert.Throws<BankException>(() => big + Usd("0.01"));
        var difference = Assert.Throws<BankException>(() => -big - Usd("0.01"));

        Assert.Equal(BankErrorCode.InvalidAmount, sum.Code);
        Assert.Equal(BankErrorCode.InvalidAmount, difference.Code);
        Assert.Equal(Usd("999999999999999.99"), big + Money.Zero(Currency.USD));
    }
}
