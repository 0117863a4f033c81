using System.Globalization;
using BankGrains.Grains.Interfaces;
using Xunit;

namespace BankGrains.Grains.Tests.MoneyTests;

public sealed class MoneyValueTests
{
    private static readonly Currency Usd = Currency.USD;
    private static readonly Currency Jpy = Currency.JPY;
    private static readonly Currency Bhd = Currency.BHD;
    private static readonly Currency Clf = Currency.Parse("CLF");

    [Fact]
    public void Constructor_NormalisesTheScale()
    {
        var a = new Money(1.5m, Usd);
        var b = new Money(1.50m, Usd);
        var c = new Money(1.500m, Usd);

        Assert.Equal(a, b);
        Assert.Equal(b, c);
        Assert.True(a == c);
        Assert.Equal(a.GetHashCode(), c.GetHashCode());
        Assert.Equal("1.50", a.AmountString);
        Assert.Equal("1.50", c.AmountString);
        Assert.Equal(2, c.Amount.Scale);
        Assert.Equal(0, new Money(100.000m, Jpy).Amount.Scale);
        Assert.Equal(4, new Money(1m, Clf).Amount.Scale);
    }

    [Fact]
    public void Constructor_TooManyDecimals_ThrowsInvalidAmount()
    {
        var usd = Assert.Throws<BankException>(() => new Money(1.005m, Usd));
        var jpy = Assert.Throws<BankException>(() => new Money(100.5m, Jpy));
        var tiny = Assert.Throws<BankException>(() => new Money(0.0000000000000000000000000001m, Clf));

        Assert.Equal(BankErrorCode.InvalidAmount, usd.Code);
        Assert.Equal("USD amounts have at most 2 decimal places; got '1.005'.", usd.Message);
        Assert.Equal(BankErrorCode.InvalidAmount, jpy.Code);
        Assert.Equal("JPY amounts have no decimal places; got '100.5'.", jpy.Message);
        Assert.Equal(BankErrorCode.InvalidAmount, tiny.Code);
    }

    [Fact]
    public void Constructor_AcceptsWholeAndExactAmounts()
    {
        Assert.Equal("100", new Money(100m, Jpy).AmountString);
        Assert.Equal("1.250", new Money(1.25m, Bhd).AmountString);
        Assert.Equal("999999999999999.99", new Money(999_999_999_999_999.99m, Usd).AmountString);
        Assert.Equal("-999999999999999.9999", new Money(-999_999_999_999_999.9999m, Clf).AmountString);
    }

    [Theory]
    [InlineData("1000000000000000")]
    [InlineData("-1000000000000000")]
    [InlineData("79228162514264337593543950335")]
    [InlineData("-79228162514264337593543950335")]
    public void Constructor_OutOfRange_ThrowsInvalidAmount(string amount)
    {
        var value = decimal.Parse(amount, CultureInfo.InvariantCulture);

        var error = Assert.Throws<BankException>(() => new Money(value, Usd));

        Assert.Equal(BankErrorCode.InvalidAmount, error.Code);
        Assert.Contains("out of range", error.Message);
    }

    [Fact]
    public void Constructor_DefaultCurrency_ThrowsUnknownCurrency()
    {
        var error = Assert.Throws<BankException>(() => new Money(1m, default));

        Assert.Equal(BankErrorCode.UnknownCurrency, error.Code);
    }

    [Fact]
    public void NegativeZero_IsPlainZero()
    {
        var negativeZero = -0.00m;
        var money = new Money(negativeZero, Usd);

        Assert.Equal("0.00", money.AmountString);
        Assert.Equal(Money.Zero(Usd), money);
        Assert.True(money.IsZero);
        Assert.False(money.IsNegative);
        Assert.Equal("0.00", (-Money.Zero(Usd)).AmountString);
    }

    [Fact]
    public void Equality_DiffersByCurrencyWithoutThrowing()
    {
        Assert.NotEqual(new Money(1m, Usd), new Money(1m, Currency.EUR));
        Assert.False(new Money(1m, Usd) == new Money(1m, Currency.EUR));
        Assert.True(new Money(1m, Usd) != new Money(1m, Currency.CHF));
    }

    [Theory]
    [InlineData("100", "USD", "100.00 USD", "100.00")]
    [InlineData("-5", "USD", "-5.00 USD", "-5.00")]
    [InlineData("100", "JPY", "100 JPY", "100")]
    [InlineData("1.25", "BHD", "1.250 BHD", "1.250")]
    [InlineData("0", "CLF", "0.0000 CLF", "0.0000")]
    [InlineData("1234567.8", "EUR", "1234567.80 EUR", "1234567.80")]
    public void Formatting_UsesExactlyTheMinorUnitsWithoutGrouping(string amount, string code, string text, string amountText)
    {
        var money = Money.Parse(amount, code);

        Assert.Equal(text, money.ToString());
        Assert.Equal(amountText, money.AmountString);
    }

    [Fact]
    public void Formatting_IgnoresTheCurrentCulture()
    {
        var previous = CultureInfo.CurrentCulture;
        var odd = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        odd.NumberFormat.NumberDecimalSeparator = ",";
        odd.NumberFormat.NumberGroupSeparator = ".";
        odd.NumberFormat.NegativeSign = "~";
        try
        {
            CultureInfo.CurrentCulture = odd;

            Assert.Equal("-1234.50 USD", new Money(-1234.5m, Usd).ToString());
            Assert.Equal(new Money(-1234.5m, Usd), Money.Parse("-1234.5", "USD"));
            Assert.Throws<BankException>(() => Money.Parse("1234,5", "USD"));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Default_HasNoCurrency()
    {
        var money = default(Money);

        Assert.True(money.Currency.IsDefault);
        Assert.Equal("default(Money)", money.ToString());
        Assert.Throws<InvalidOperationException>(() => money + money);
        Assert.Throws<InvalidOperationException>(() => money + Money.Zero(Usd));
        Assert.Throws<InvalidOperationException>(() => -money);
        Assert.Throws<InvalidOperationException>(() => money < Money.Zero(Usd));
    }

    [Fact]
    public void Deconstruct_GivesAmountAndCurrency()
    {
        var (amount, currency) = Money.Parse("2.5", "BHD");

        Assert.Equal(2.500m, amount);
        Assert.Equal(Bhd, currency);
    }
}
