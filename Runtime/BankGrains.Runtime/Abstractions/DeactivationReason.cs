namespace BankGrains.Runtime;

public enum DeactivationReasonCode
{
    ApplicationRequested,
    ActivationIdle,
    ShuttingDown,
    ActivationFailed,
    /// <summary>The membership view changed and another silo owns the grain now.</summary>
    OwnershipMoved,
}

/// <summary>Why an activation is being deactivated; passed to OnDeactivateAsync.</summary>
public readonly record struct DeactivationReason(DeactivationReasonCode Code, string Description)
{
    public override string ToString() => $"{Code}: {Description}";
}
