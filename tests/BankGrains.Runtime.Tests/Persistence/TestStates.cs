namespace BankGrains.Runtime.Tests.Persistence;

// State shapes for the conformance suites: nested records, lists, dictionaries, enums, decimals
// whose scale matters, offsets that must survive, nullables.

public enum AccountStatus { Pending, Open, Frozen }

public sealed record Money(decimal Amount, string Currency);

public sealed record Address(string Street, string City, string? Country);

public sealed record Posting(Guid Id, Money Amount, string Memo, DateTimeOffset BookedAt, IReadOnlyList<string> Tags);

public sealed class AccountState
{
    public string Owner { get; set; } = "";
    public Money Balance { get; set; } = new(0m, "EUR");
    public List<Posting> Postings { get; set; } = [];
    public Dictionary<string, decimal> Limits { get; set; } = [];
    public DateTimeOffset OpenedAt { get; set; }
    public AccountStatus Status { get; set; }
    public Address? Address { get; set; }
    public long? OverdraftCents { get; set; }
    public int Revision { get; set; }
}

/// <summary>A small state for tests that only care about which write is stored.</summary>
public sealed class CounterState
{
    public int Value { get; set; }
    public string Writer { get; set; } = "";
}

/// <summary>
/// Polymorphic state: GrainJson writes "$type" first, but jsonb hands keys back in its own order
/// ("id" before "$type"), so this checks that reading does not depend on key order.
/// </summary>
[System.Text.Json.Serialization.JsonPolymorphic]
[System.Text.Json.Serialization.JsonDerivedType(typeof(StandingOrder), "standing-order")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(DirectDebit), "direct-debit")]
public abstract record PaymentInstruction(string Id);

public sealed record StandingOrder(string Id, Money Amount, int DayOfMonth) : PaymentInstruction(Id);

public sealed record DirectDebit(string Id, string Mandate, Money? Cap) : PaymentInstruction(Id);

public sealed class InstructionsState
{
    public List<PaymentInstruction> Instructions { get; set; } = [];
    public PaymentInstruction? Default { get; set; }
}
