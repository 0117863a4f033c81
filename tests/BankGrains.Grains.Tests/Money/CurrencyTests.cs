using BankGrains.Grains.Interfaces;
using Xunit;

namespace BankGrains.Grains.Tests.MoneyTests;

public sealed class CurrencyTests
{
    [Theory]
    [InlineData("USD", 2)]
    [InlineData("EUR", 2)]
    [InlineData("GBP", 2)]
    [InlineData("CHF", 2)]
    [InlineData("JPY", 0)]
    [InlineData("KRW", 0)]
    [InlineData("ISK", 0)]
    [InlineData("VND", 0)]
    [InlineData("XAF", 0)]
    [InlineData("XOF", 0)]
    [InlineData("XPF", 0)]
    [InlineData("CLP", 0)]
    [InlineData("UYI", 0)]
    [InlineData("BHD", 3)]
    [InlineData("KWD", 3)]
    [InlineData("JOD", 3)]
    [InlineData("OMR", 3)]
    [InlineData("TND", 3)]
    [InlineData("LYD", 3)]
    [InlineData("IQD", 3)]
    [InlineData("CLF", 4)]
    [InlineData("UYW", 4)]
    [InlineData("XCG", 2)]
    [InlineData("ZWG", 2)]
    [InlineData("SLE", 2)]
    [InlineData("VES", 2)]
    [InlineData("VED", 2)]
    [InlineData("HUF", 2)]
    [InlineData("IDR", 2)]
    [InlineData("MGA", 2)]
    public void Parse_KnownCode_HasIsoMinorUnits(string code, int minorUnits)
    {
        var currency = Currency.Parse(code);

        Assert.Equal(code, currency.Code);
        Assert.Equal(minorUnits, currency.MinorUnits);
        Assert.Equal(code, currency.ToString());
        Assert.False(currency.IsDefault);
    }

    [Theory]
    [InlineData("XAU")] // gold
    [InlineData("XAG")] // silver
    [InlineData("XPT")] // platinum
    [InlineData("XPD")] // palladium
    [InlineData("XTS")] // testing
    [InlineData("XXX")] // no currency
    [InlineData("XDR")] // SDR, no minor units
    [InlineData("XSU")]
    [InlineData("XUA")]
    [InlineData("XBA")]
    [InlineData("ANG")] // replaced by XCG
    [InlineData("BGN")] // euro since 2026
    [InlineData("HRK")] // euro since 2023
    [InlineData("ZWL")] // replaced by ZWG
    [InlineData("SLL")] // replaced by SLE
    [InlineData("CUC")]
    [InlineData("ABC")]
    [InlineData("US")]
    [InlineData("USDX")]
    [InlineData(" USD")]
    [InlineData("USD ")]
    [InlineData("U$D")]
    public void Parse_UnsupportedCode_ThrowsUnknownCurrencyNamingTheCode(string code)
    {
        var error = Assert.Throws<BankException>(() => Currency.Parse(code));

        Assert.Equal(BankErrorCode.UnknownCurrency, error.Code);
        Assert.Contains($"'{code}'", error.Message);
        Assert.False(Currency.TryParse(code, out var currency));
        Assert.True(currency.IsDefault);
    }

    [Theory]
    [InlineData("usd", "USD")]
    [InlineData("Eur", "EUR")]
    [InlineData("jpY", "JPY")]
    public void Parse_WrongCase_IsRejectedWithAHint(string code, string suggestion)
    {
        var error = Assert.Throws<BankException>(() => Currency.Parse(code));

        Assert.Equal(BankErrorCode.UnknownCurrency, error.Code);
        Assert.Equal(
            $"Unknown currency code '{code}': currency codes are case-sensitive upper-case ISO 4217 codes; did you mean '{suggestion}'?",
            error.Message);
    }

    [Fact]
    public void Parse_UnknownCode_HasAClearMessage()
    {
        var error = Assert.Throws<BankException>(() => Currency.Parse("XAU"));

        Assert.Equal(
            "Unknown currency code 'XAU': not an active ISO 4217 currency with minor units that this bank supports.",
            error.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Parse_MissingCode_ThrowsUnknownCurrency(string? code)
    {
        var error = Assert.Throws<BankException>(() => Currency.Parse(code));

        Assert.Equal(BankErrorCode.UnknownCurrency, error.Code);
        Assert.Contains("missing", error.Message);
        Assert.False(Currency.TryParse(code, out _));
    }

    [Fact]
    public void TryParse_KnownCode_ReturnsTheCurrency()
    {
        Assert.True(Currency.TryParse("BHD", out var currency));
        Assert.Equal(Currency.BHD, currency);
    }

    [Fact]
    public void StaticMembers_AreTheParsedCurrencies()
    {
        Assert.Equal(Currency.Parse("USD"), Currency.USD);
        Assert.Equal(Currency.Parse("EUR"), Currency.EUR);
        Assert.Equal(Currency.Parse("GBP"), Currency.GBP);
        Assert.Equal(Currency.Parse("JPY"), Currency.JPY);
        Assert.Equal(Currency.Parse("BHD"), Currency.BHD);
        Assert.Equal(Currency.Parse("CHF"), Currency.CHF);
        Assert.Equal(2, Currency.USD.MinorUnits);
        Assert.Equal(0, Currency.JPY.MinorUnits);
        Assert.Equal(3, Currency.BHD.MinorUnits);
    }

    [Fact]
    public void Equality_IsByCode()
    {
        Assert.True(Currency.Parse("USD") == Currency.USD);
        Assert.True(Currency.USD != Currency.EUR);
        Assert.Equal(Currency.USD.GetHashCode(), Currency.Parse("USD").GetHashCode());
        Assert.NotEqual(default, Currency.USD);
    }

    [Fact]
    public void Default_IsNotACurrency()
    {
        var currency = default(Currency);

        Assert.True(currency.IsDefault);
        Assert.Equal(string.Empty, currency.Code);
        Assert.Equal(string.Empty, currency.ToString());
    }

    [Fact]
    public void All_IsSortedUniqueAndWellFormed()
    {
        var all = Currency.All;

        Assert.InRange(all.Count, 150, 200);
        Assert.Equal(all.Select(c => c.Code).Order(StringComparer.Ordinal), all.Select(c => c.Code));
        Assert.Equal(all.Count, all.Select(c => c.Code).Distinct().Count());
        Assert.All(all, c =>
        {
            Assert.Matches("^[A-Z]{3}$", c.Code);
            Assert.Contains(c.MinorUnits, new[] { 0, 2, 3, 4 });
            Assert.Equal(c, Currency.Parse(c.Code));
        });
        Assert.Equal(all.Count, CurrencyTable.MinorUnitsByCode.Count);
    }
}
