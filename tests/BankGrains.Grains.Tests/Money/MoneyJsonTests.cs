using System.Text.Json;
using System.Text.Json.Serialization;
using BankGrains.Grains.Interfaces;
using Xunit;

namespace BankGrains.Grains.Tests.MoneyTests;

public sealed class MoneyJsonTests
{
    // The same settings as the runtime's GrainJson (kept here so these tests need nothing but the Money files).
    private static readonly JsonSerializerOptions Grain = CreateGrainLike();

    private static readonly JsonSerializerOptions Plain = new();

    private static JsonSerializerOptions CreateGrainLike()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    public sealed record Holder(Money Balance, Money? Limit, Currency Currency, Dictionary<Currency, Money> ByCurrency);

    [Theory]
    [InlineData("100", "USD", """{"amount":"100.00","currency":"USD"}""")]
    [InlineData("-5", "USD", """{"amount":"-5.00","currency":"USD"}""")]
    [InlineData("100", "JPY", """{"amount":"100","currency":"JPY"}""")]
    [InlineData("1.25", "BHD", """{"amount":"1.250","currency":"BHD"}""")]
    [InlineData("0.0001", "CLF", """{"amount":"0.0001","currency":"CLF"}""")]
    public void Serialize_WritesAmountAsStringWithCamelCaseNames(string amount, string code, string json)
    {
        var money = Money.Parse(amount, code);

        Assert.Equal(json, JsonSerializer.Serialize(money, Grain));
        Assert.Equal(json, JsonSerializer.Serialize(money, Plain));
        Assert.Equal(money, JsonSerializer.Deserialize<Money>(json, Grain));
        Assert.Equal(money, JsonSerializer.Deserialize<Money>(json, Plain));
    }

    [Fact]
    public void Serialize_IgnoresAPascalCaseNamingPolicy()
    {
        var options = new JsonSerializerOptions { PropertyNamingPolicy = null };

        Assert.Equal("""{"amount":"1.00","currency":"EUR"}""", JsonSerializer.Serialize(Money.Parse("1", "EUR"), options));
    }

    [Fact]
    public void Deserialize_AcceptsAnyOrderWhitespaceAndNormalises()
    {
        var json = """
            {
              "currency" : "USD",
              "amount" : "1.5"
            }
            """;

        var money = JsonSerializer.Deserialize<Money>(json, Grain);

        Assert.Equal(Money.Parse("1.50", "USD"), money);
        Assert.Equal("1.50", money.AmountString);
    }

    [Fact]
    public void Deserialize_UnescapesStrings()
    {
        var money = JsonSerializer.Deserialize<Money>("""{"amount":"\u0031.00","currency":"\u0055SD"}""", Grain);

        Assert.Equal(Money.Parse("1", "USD"), money);
    }

    [Fact]
    public void Deserialize_NumberAmount_IsRejectedSayingAmountsTravelAsStrings()
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Money>("""{"amount":100.00,"currency":"USD"}""", Grain));

        Assert.Contains("amounts travel as JSON strings", error.Message);
        Assert.Contains("never as JSON numbers", error.Message);
    }

    [Theory]
    [InlineData("""{"currency":"USD"}""", "missing 'amount'")]
    [InlineData("""{"amount":"1.00"}""", "missing 'currency'")]
    [InlineData("""{}""", "missing 'amount'")]
    [InlineData("""{"amount":null,"currency":"USD"}""", "got null")]
    [InlineData("""{"amount":true,"currency":"USD"}""", "got a JSON boolean")]
    [InlineData("""{"amount":["1.00"],"currency":"USD"}""", "got a JSON array")]
    [InlineData("""{"amount":{"value":"1.00"},"currency":"USD"}""", "got a JSON object")]
    [InlineData("""{"amount":"1.00","currency":null}""", "got null")]
    [InlineData("""{"amount":"1.00","currency":840}""", "got a JSON number")]
    [InlineData("""{"amount":"1.00","amount":"2.00","currency":"USD"}""", "'amount' twice")]
    [InlineData("""{"amount":"1.00","currency":"USD","currency":"EUR"}""", "'currency' twice")]
    [InlineData("""{"amount":"1.00","currency":"USD","note":"x"}""", "no property 'note'")]
    [InlineData("""{"Amount":"1.00","Currency":"USD"}""", "no property 'Amount'")]
    [InlineData("\"1.00 USD\"", "got a JSON string")]
    [InlineData("100", "got a JSON number")]
    [InlineData("[]", "got a JSON array")]
    [InlineData("null", "got null")]
    public void Deserialize_MalformedMoney_ThrowsJsonException(string json, string expected)
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Money>(json, Grain));

        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("""{"amount":"1.005","currency":"USD"}""", BankErrorCode.InvalidAmount, "USD amounts have at most 2 decimal places; got '1.005'.")]
    [InlineData("""{"amount":"100.5","currency":"JPY"}""", BankErrorCode.InvalidAmount, "JPY amounts have no decimal places; got '100.5'.")]
    [InlineData("""{"amount":"1e5","currency":"USD"}""", BankErrorCode.InvalidAmount, "Amount '1e5' is not a plain decimal number")]
    [InlineData("""{"amount":"","currency":"USD"}""", BankErrorCode.InvalidAmount, "Amount is missing")]
    [InlineData("""{"amount":"1.00","currency":"usd"}""", BankErrorCode.UnknownCurrency, "did you mean 'USD'?")]
    [InlineData("""{"amount":"1.00","currency":"XAU"}""", BankErrorCode.UnknownCurrency, "Unknown currency code 'XAU'")]
    public void Deserialize_InvalidValue_ThrowsJsonExceptionWrappingTheBankException(string json, BankErrorCode code, string message)
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Money>(json, Grain));

        var inner = Assert.IsType<BankException>(error.InnerException);
        Assert.Equal(code, inner.Code);
        Assert.Contains(message, inner.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Deserialize_CaseInsensitiveOptions_AcceptOtherCasing()
    {
        var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true };

        var money = JsonSerializer.Deserialize<Money>("""{"AMOUNT":"2","Currency":"GBP"}""", options);

        Assert.Equal(Money.Parse("2.00", "GBP"), money);
    }

    [Fact]
    public void Serialize_DefaultMoney_Throws()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Serialize(default(Money), Grain));
        Assert.Throws<JsonException>(() => JsonSerializer.Serialize(default(Currency), Grain));
    }

    [Fact]
    public void Currency_IsAPlainString()
    {
        Assert.Equal("\"USD\"", JsonSerializer.Serialize(Currency.USD, Grain));
        Assert.Equal(Currency.BHD, JsonSerializer.Deserialize<Currency>("\"BHD\"", Grain));
    }

    [Theory]
    [InlineData("\"usd\"", true)]
    [InlineData("\"XAU\"", true)]
    [InlineData("\"\"", true)]
    [InlineData("840", false)]
    [InlineData("null", false)]
    [InlineData("{\"code\":\"USD\"}", false)]
    public void Currency_Invalid_ThrowsJsonException(string json, bool wrapsBankException)
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Currency>(json, Grain));

        if (wrapsBankException)
        {
            Assert.Equal(BankErrorCode.UnknownCurrency, Assert.IsType<BankException>(error.InnerException).Code);
        }
        else
        {
            Assert.Contains("travels as a JSON string", error.Message);
        }
    }

    [Fact]
    public void RoundTrip_InsideAnotherType()
    {
        var holder = new Holder(
            Money.Parse("-12.5", "EUR"),
            Money.Parse("1000", "EUR"),
            Currency.EUR,
            new Dictionary<Currency, Money> { [Currency.USD] = Money.Parse("1", "USD"), [Currency.JPY] = Money.Parse("7", "JPY") });

        var json = JsonSerializer.Serialize(holder, Grain);
        var back = JsonSerializer.Deserialize<Holder>(json, Grain)!;

        Assert.Equal(
            """{"balance":{"amount":"-12.50","currency":"EUR"},"limit":{"amount":"1000.00","currency":"EUR"},"currency":"EUR","byCurrency":{"USD":{"amount":"1.00","currency":"USD"},"JPY":{"amount":"7","currency":"JPY"}}}""",
            json);
        Assert.Equal(holder.Balance, back.Balance);
        Assert.Equal(holder.Limit, back.Limit);
        Assert.Equal(holder.Currency, back.Currency);
        Assert.Equal(holder.ByCurrency, back.ByCurrency);
    }

    [Fact]
    public void NullableMoney_RoundTripsNull()
    {
        Assert.Equal("null", JsonSerializer.Serialize<Money?>(null, Grain));
        Assert.Null(JsonSerializer.Deserialize<Money?>("null", Grain));
        Assert.Equal(Money.Parse("3", "CHF"), JsonSerializer.Deserialize<Money?>("""{"amount":"3","currency":"CHF"}""", Grain));
    }

    [Fact]
    public void Deserialize_UnknownDictionaryKey_ThrowsJsonException()
    {
        var error = Assert.Throws<JsonException>(
            () => JsonSerializer.Deserialize<Dictionary<Currency, Money>>("""{"usd":{"amount":"1","currency":"USD"}}""", Grain));

        Assert.Equal(BankErrorCode.UnknownCurrency, Assert.IsType<BankException>(error.InnerException).Code);
    }
}
