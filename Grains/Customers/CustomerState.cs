using BankGrains.Grains.Interfaces;

namespace BankGrains.Grains;

/// <summary>What a customer grain stores. Customers that were never created have no record.</summary>
public sealed class CustomerState
{
    public bool Exists { get; set; }
    public string Name { get; set; } = "";
    public string Email { get; set; } = "";
    public KycLevel KycLevel { get; set; }
    public List<Guid> AccountIds { get; set; } = new();
    public DateTimeOffset CreatedAt { get; set; }
}
