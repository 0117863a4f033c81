namespace BankGrains.Runtime.Hosting;

/// <summary>Which cluster this process belongs to. Several clusters may share one database.</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>The cluster (service) id: scopes grain state, reminders and membership in storage.</summary>
    public string Id { get; set; } = "bankgrains";

    /// <summary>"silo" hosts a silo in the process (the default); "client" only calls the cluster (the Api).</summary>
    public string Role { get; set; } = "silo";

    /// <summary>TCP port for silo-to-silo and client-to-silo messaging; 0 lets the OS choose.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>The address other silos and clients use to reach this silo (default: detected; set it in containers).</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>The local address the silo listens on (default: all interfaces).</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>A name for people (logs, dashboard); default "silo-&lt;port&gt;".</summary>
    public string? SiloName { get; set; }

    /// <summary>
    /// The process exit code when the cluster declared this silo dead: a failure, so a supervisor
    /// (restart: on-failure, systemd) starts a fresh incarnation. 0 keeps an in-process test host clean.
    /// </summary>
    public int ExitCodeWhenDeclaredDead { get; set; } = 70;

    public bool IsClient => string.Equals(Role, "client", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Grain call behaviour (Orleans: SiloMessagingOptions).</summary>
public sealed class MessagingOptions
{
    public const string Section = "Runtime:Messaging";

    /// <summary>How long a caller waits for a response before a <see cref="GrainCallTimeoutException"/> (Orleans: 30 s).</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Idle activation collection (Orleans: GrainCollectionOptions).</summary>
public sealed class GrainCollectionOptions
{
    public const string Section = "Runtime:Collection";

    /// <summary>An activation idle this long is deactivated (Orleans: 15 min). [CollectionAgeLimit] overrides per class.</summary>
    public TimeSpan CollectionAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often the collector looks for idle activations (Orleans: 1 min).</summary>
    public TimeSpan CollectionQuantum { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a graceful shutdown waits for activations to finish their work and deactivate.</summary>
    public TimeSpan DeactivationTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Durable reminders (Orleans: ReminderOptions).</summary>
public sealed class ReminderOptions
{
    public const string Section = "Runtime:Reminders";

    /// <summary>Shortest allowed period (Orleans: 1 min); tests shorten it.</summary>
    public TimeSpan MinimumPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the silo re-reads the reminder table to pick up changes made elsewhere.</summary>
    public TimeSpan RefreshPeriod { get; set; } = TimeSpan.FromMinutes(1);
}
