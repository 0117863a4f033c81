using System.Text.Json;
using BankGrains.Runtime.Membership;
using BankGrains.Runtime.Serialization;
using Xunit;

namespace BankGrains.Runtime.Tests.Membership;

public sealed class SiloAddressTests
{
    [Fact]
    public void Formats_as_ip_port_at_generation_and_parses_back()
    {
        var address = new SiloAddress("127.0.0.1", 11111, 123456);

        Assert.Equal("127.0.0.1:11111@123456", address.ToString());
        Assert.Equal(address, SiloAddress.Parse("127.0.0.1:11111@123456"));
        Assert.Equal(("127.0.0.1", 11111, 123456), (address.Host, address.Port, address.Generation));
    }

    [Theory]
    [InlineData("::1", "[::1]:11111@5")]
    [InlineData("0:0:0:0:0:0:0:1", "[::1]:11111@5")] // canonical form, so equal addresses are equal
    [InlineData("2001:DB8::1", "[2001:db8::1]:11111@5")]
    public void IPv6_is_bracketed_and_canonical(string host, string text)
    {
        var address = new SiloAddress(host, 11111, 5);

        Assert.Equal(text, address.ToString());
        Assert.Equal(address, SiloAddress.Parse(text));
        Assert.Equal(address, SiloAddress.Parse(text.Replace("[", "").Replace("]", ""))); // the port is after the last colon
    }

    [Theory]
    [InlineData("")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:11111")]
    [InlineData("127.0.0.1@5")]
    [InlineData("localhost:11111@5")]
    [InlineData("127.1:11111@5")] // IPAddress would read this as 127.0.0.1
    [InlineData("010.0.0.1:11111@5")]
    [InlineData("127.0.0.1:0@5")]
    [InlineData("127.0.0.1:65536@5")]
    [InlineData("127.0.0.1:11111@0")]
    [InlineData("127.0.0.1:11111@-5")]
    [InlineData("127.0.0.1:+11111@5")]
    [InlineData("127.0.0.1: 11111@5")]
    [InlineData("127.0.0.1:11111@5 ")]
    [InlineData("[::1:11111@5")]
    [InlineData("fe80::1%2:11111@5")]
    public void Rejects_malformed_text(string text)
    {
        Assert.False(SiloAddress.TryParse(text, out _));
        Assert.Throws<FormatException>(() => SiloAddress.Parse(text));
    }

    [Fact]
    public void The_constructor_rejects_what_parse_rejects()
    {
        Assert.Throws<ArgumentException>(() => new SiloAddress("localhost", 1, 1));
        Assert.Throws<ArgumentException>(() => new SiloAddress(null!, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SiloAddress("10.0.0.1", 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SiloAddress("10.0.0.1", 1, 0));
        Assert.True(default(SiloAddress).IsDefault);
        Assert.False(new SiloAddress("10.0.0.1", 1, 1).IsDefault);
    }

    [Fact]
    public void Json_is_the_text_form_also_as_a_dictionary_key()
    {
        var address = new SiloAddress("10.0.0.5", 11111, 42);
        var holder = new Holder(address, new Dictionary<SiloAddress, int> { [address] = 3 });

        var json = JsonSerializer.Serialize(holder, GrainJson.Options);

        Assert.Equal("{\"silo\":\"10.0.0.5:11111@42\",\"votes\":{\"10.0.0.5:11111@42\":3}}", json);
        var back = JsonSerializer.Deserialize<Holder>(json, GrainJson.Options)!;
        Assert.Equal(address, back.Silo);
        Assert.Equal(3, back.Votes[address]);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<SiloAddress>("\"10.0.0.5:11111\"", GrainJson.Options));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<SiloAddress>("42", GrainJson.Options));
        Assert.Throws<JsonException>(() => JsonSerializer.Serialize(default(SiloAddress), GrainJson.Options));
    }

    [Fact]
    public void A_membership_entry_round_trips_through_json()
    {
        var entry = new MembershipEntry(new SiloAddress("10.0.0.5", 11111, 42), "silo-a", "host-a", SiloStatus.Active,
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(1), [new Suspicion(new SiloAddress("10.0.0.6", 11111, 1), DateTimeOffset.UnixEpoch)]);

        var back = JsonSerializer.Deserialize<MembershipEntry>(JsonSerializer.Serialize(entry, GrainJson.Options), GrainJson.Options);

        Assert.Equal(entry, back);
    }

    [Fact]
    public void Same_endpoint_means_same_host_and_port_whatever_the_generation()
    {
        var a = new SiloAddress("10.0.0.1", 11111, 1);

        Assert.True(a.IsSameEndpoint(new SiloAddress("10.0.0.1", 11111, 2)));
        Assert.False(a.IsSameEndpoint(new SiloAddress("10.0.0.1", 11112, 1)));
        Assert.False(a.IsSameEndpoint(new SiloAddress("10.0.0.2", 11111, 1)));
        Assert.NotEqual(a, new SiloAddress("10.0.0.1", 11111, 2));
    }

    [Fact]
    public void New_generations_count_seconds_since_2024_and_strictly_increase()
    {
        var expected = (int)((DateTimeOffset.UtcNow - new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalSeconds);
        var generations = Enumerable.Range(0, 5).Select(_ => SiloAddress.NewGeneration()).ToArray();

        Assert.InRange(generations[0], expected - 5, expected + 600); // other tests may have taken a few ahead
        Assert.Equal(generations.Order().Distinct(), generations);

        // Even when the clock says the same second, or goes back.
        var fixedClock = new DateTimeOffset(2024, 1, 1, 0, 0, 10, TimeSpan.Zero);
        var first = SiloAddress.NewGeneration(fixedClock);
        Assert.True(SiloAddress.NewGeneration(fixedClock) > first);
        Assert.True(SiloAddress.NewGeneration(fixedClock.AddHours(-1)) > first);
    }

    [Fact]
    public void Membership_values_normalise_timestamps_and_compare_by_value()
    {
        var local = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.FromHours(-5)).AddTicks(19);
        var silo = new SiloAddress("10.0.0.1", 1, 1);
        var suspicions = new List<Suspicion> { new(silo, local) };
        var a = new MembershipEntry(silo, "s", "h", SiloStatus.Active, local, local, suspicions);
        var b = new MembershipEntry(silo, "s", "h", SiloStatus.Active, local, local, [new Suspicion(silo, local)]);

        suspicions.Clear(); // the entry kept its own copy

        Assert.Equal(TimeSpan.Zero, a.StartTime.Offset);
        Assert.Equal(local.UtcTicks - 9, a.IAmAliveTime.UtcTicks);
        Assert.Equal(local.UtcTicks - 9, a.Suspicions[0].At.UtcTicks);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { Suspicions = [] });
        Assert.Throws<ArgumentOutOfRangeException>(() => a with { Status = (SiloStatus)42 });
        Assert.Throws<ArgumentException>(() => a with { Silo = default });
    }

    private sealed record Holder(SiloAddress Silo, Dictionary<SiloAddress, int> Votes);
}
