using BankGrains.Grains.Interfaces;
using Xunit;

namespace BankGrains.Grains.Tests.MoneyTests;

public sealed class MoneyParseTests
{
    [Theory]
    [InlineData("1.50", "USD", "1.50")]
    [InlineData("1.5", "USD", "1.50")]
    [InlineData("1.500", "USD", "1.50")]
    [InlineData("1.50000000000000000000000000000000000000", "USD", "1.50")]
    [InlineData("1", "USD", "1.00")]
    [InlineData("0", "USD", "0.00")]
    [InlineData("-0", "USD", "0.00")]
    [InlineData("-0.00", "USD", "0.00")]
    [InlineData("007.10", "USD", "7.10")]
    [InlineData("0000000000000000000000000000000000001.00", "USD", "1.00")]
    [InlineData("-5", "USD", "-5.00")]
    [InlineData("-0.01", "USD", "-0.01")]
    [InlineData("999999999999999.99", "USD", "999999999999999.99")]
    [InlineData("-999999999999999.99", "USD", "-999999999999999.99")]
    [InlineData("100", "JPY", "100")]
    [InlineData("100.0", "JPY", "100")]
    [InlineData("100.000", "JPY", "100")]
    [InlineData("-7", "JPY", "-7")]
    [InlineData("999999999999999", "JPY", "999999999999999")]
    [InlineData("1.25", "BHD", "1.250")]
    [InlineData("1.005", "BHD", "1.005")]
    [InlineData("0.001", "BHD", "0.001")]
    [InlineData("12", "BHD", "12.000")]
    [InlineData("0.0001", "CLF", "0.0001")]
    [InlineData("12.3456", "CLF", "12.3456")]
    [InlineData("12.34560", "CLF", "12.3456")]
    [InlineData("-999999999999999.9999", "CLF", "-999999999999999.9999")]
    [InlineData("3", "CLF", "3.0000")]
    public void Parse_ValidAmount_IsNormalisedToTheMinorUnits(string amount, string code, string expected)
    {
        var money = Money.Parse(amount, code);

        Assert.Equal(expected, money.AmountString);
        Assert.Equal(code, money.Currency.Code);
        Assert.Equal(Currency.Parse(code).MinorUnits, money.Amount.Scale);
        Assert.Equal(money, Money.Parse(amount, Currency.Parse(code)));
    }

    [Theory]
    [InlineData("1.005", "USD", "USD amounts have at most 2 decimal places; got '1.005'.")]
    [InlineData("0.001", "EUR", "EUR amounts have at most 2 decimal places; got '0.001'.")]
    [InlineData("-1.0010", "USD", "USD amounts have at most 2 decimal places; got '-1.0010'.")]
    [InlineData("100.5", "JPY", "JPY amounts have no decimal places; got '100.5'.")]
    [InlineData("0.1", "JPY", "JPY amounts have no decimal places; got '0.1'.")]
    [InlineData("1.0001", "BHD", "BHD amounts have at most 3 decimal places; got '1.0001'.")]
    [InlineData("1.00001", "CLF", "CLF amounts have at most 4 decimal places; got '1.00001'.")]
    public void Parse_TooManyDecimals_ThrowsInvalidAmountSayingWhatTheCurrencyAllows(string amount, string code, string message)
    {
        var error = Assert.Throws<BankException>(() => Money.Parse(amount, code));

        Assert.Equal(BankErrorCode.InvalidAmount, error.Code);
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1\n")]
    [InlineData("+1")]
    [InlineData("1e5")]
    [InlineData("1E5")]
    [InlineData("1.0e2")]
    [InlineData("1,000")]
    [InlineData("1,000.00")]
    [InlineData("1,5")]
    [InlineData("1 000")]
    [InlineData("1_000")]
    [InlineData(".5")]
    [InlineData("5.")]
    [InlineData("-")]
    [InlineData("--1")]
    [InlineData("-.5")]
    [InlineData("1.2.3")]
    [InlineData("0x10")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("$1")]
    [InlineData("1USD")]
    [InlineData("\u2212" + "1")] // Unicode minus sign
    [InlineData("\u0661\u0662")] // Arabic-Indic digits
    [InlineData("\uFF11")] // full-width 1
    [InlineData("(1.00)")]
    public void Parse_MalformedAmount_ThrowsInvalidAmount(string amount)
    {
        var error = Assert.Throws<BankException>(() => Money.Parse(amount, "USD"));

        Assert.Equal(BankErrorCode.InvalidAmount, error.Code);
        Assert.StartsWith($"Amount '{amount}' is not a plain decimal number", error.Message);
        Assert.Contains("'100.00' for USD", error.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Parse_MissingAmount_ThrowsInvalidAmount(string? amount)
    {
        var error = Assert.Throws<BankException>(() => Money.Parse(amount, "JPY"));

        Assert.Equal(BankErrorCode.InvalidAmount, error.Code);
        Assert.Equal("Amount is missing; expected a decimal string such as '100' for JPY.", error.Message);
    }

    [Theory]
    [InlineData("1000000000000000", "USD")]
    [InlineData("-1000000000000000", "USD")]
    [InlineData("1000000000000000.00", "USD")]
    [InlineData("1000000000000000", "JPY")]
    [InlineData("99999999999999999999999999999999999999999", "CLF")]
    public void Parse_OutOfRange_ThrowsInvalidAmount(string amount, string code)
    {
        var error = Assert.Throws<BankException>(() => Money.Parse(amount, code));

        Assert.Equal(BankErrorCode.InvalidAmount, error.Code);
        Assert.Contains("out of range", error.Message);
    }

    [Fact]
    public void Parse_HugeInput_IsShortenedInTheMessage()
    {
        var amount = new string('9', 10_000) + "x";

        var error = Assert.Throws<BankException>(() => Money.Parse(amount, "USD"));

        Assert.Equal(BankErrorCode.InvalidAmount, error.Code);
        Assert.True(error.Message.Length < 400, error.Message);
    }

    [Theory]
    [InlineData("usd")]
    [InlineData("XAU")]
    [InlineData("")]
    [InlineData(null)]
    public void Parse_UnknownCurrency_ThrowsUnknownCurrency(string? code)
    {
        var error = Assert.Throws<BankException>(() => Money.Parse("1.00", code));

        Assert.Equal(BankErrorCode.UnknownCurrency, error.Code);
    }

    [Fact]
    public void Parse_UnknownCurrencyAndBadAmount_ReportsTheCurrency()
    {
        var error = Assert.Throws<BankException>(() => Money.Parse("1e5", "ABC"));

        Assert.Equal(BankErrorCode.UnknownCurrency, error.Code);
    }

    [Fact]
    public void Parse_DefaultCurrency_ThrowsUnknownCurrency()
    {
        var error = Assert.Throws<BankException>(() => Money.Parse("1.00", default(Currency)));

        Assert.Equal(BankErrorCode.UnknownCurrency, error.Code);
    }
}
