using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using BankGrains.Runtime.Membership;

namespace BankGrains.Runtime.Cluster;

/// <summary>This silo's identity, known once its listener is bound (the port may be chosen by the OS).</summary>
public sealed class LocalSilo
{
    private SiloAddress _address;

    public SiloAddress Address => _address.IsDefault ? throw new InvalidOperationException("The silo has not bound its port yet.") : _address;
    public bool IsBound => !_address.IsDefault;
    public string Name { get; private set; } = "";
    public string HostName { get; } = Dns.GetHostName();

    internal void Bind(string advertisedHost, int port, string? name)
    {
        _address = new SiloAddress(advertisedHost, port, SiloAddress.NewGeneration());
        Name = string.IsNullOrWhiteSpace(name) ? $"silo-{port}" : name;
    }

    /// <summary>The first up, non-loopback IPv4 address of this machine, or 127.0.0.1 when there is none.</summary>
    public static string DetectAddress()
    {
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(u => u.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        return (address ?? IPAddress.Loopback).ToString();
    }
}
