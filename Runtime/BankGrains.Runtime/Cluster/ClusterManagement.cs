using System.Diagnostics;
using System.Net;
using BankGrains.Runtime.Core;
using BankGrains.Runtime.Membership;
using BankGrains.Runtime.Networking;
using BankGrains.Runtime.Reminders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BankGrains.Runtime.Cluster;

/// <summary>One silo as operators see it.</summary>
public sealed record SiloInfo(
    string Address,
    string Host,
    int Port,
    int Generation,
    string Name,
    string HostName,
    string Status,
    DateTimeOffset StartTime,
    DateTimeOffset LastHeartbeat,
    IReadOnlyDictionary<string, int>? ActivationsByGrainType);

/// <summary>The management view: every silo the cluster knows, with its activations per grain type when it answers.</summary>
public interface IClusterManagement
{
    Task<IReadOnlyList<SiloInfo>> GetSilosAsync(CancellationToken cancellationToken);
}

/// <summary>A cluster: rows from the membership table, activation counts asked of each live silo (briefly; a silo that does not answer shows none).</summary>
internal sealed class ClusterManagement(IMembershipTable table, ConnectionPool connections, ILogger<ClusterManagement> logger) : IClusterManagement
{
    private static readonly TimeSpan StatsTimeout = TimeSpan.FromSeconds(2);

    public async Task<IReadOnlyList<SiloInfo>> GetSilosAsync(CancellationToken cancellationToken)
    {
        var snapshot = await table.ReadAllAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        return await Task.WhenAll(snapshot.Entries.Select(async entry =>
        {
            IReadOnlyDictionary<string, int>? activations = null;
            if (entry.Status is SiloStatus.Active or SiloStatus.Joining or SiloStatus.ShuttingDown)
            {
                try
                {
                    var endpoint = new IPEndPoint(IPAddress.Parse(entry.Silo.Host), entry.Silo.Port);
                    var response = await connections.SendRequestAsync(endpoint, SystemCalls.Stats(), DateTimeOffset.UtcNow + StatsTimeout, cancellationToken)
                        .ConfigureAwait(false);
                    activations = SystemCalls.ReadStats(response).ActivationsByGrainType;
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    logger.LogDebug(error, "Silo {Silo} did not report its activations", entry.Silo);
                }
            }
            return ToInfo(entry, activations);
        })).ConfigureAwait(false);
    }

    private static SiloInfo ToInfo(MembershipEntry entry, IReadOnlyDictionary<string, int>? activations) => new(
        entry.Silo.ToString(), entry.Silo.Host, entry.Silo.Port, entry.Silo.Generation, entry.SiloName, entry.HostName,
        System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(entry.Status.ToString()), entry.StartTime, entry.IAmAliveTime, activations);
}

/// <summary>The embedded single silo: itself, always active while the process runs.</summary>
internal sealed class SingleSiloManagement(IServiceProvider services) : IClusterManagement
{
    private static readonly DateTimeOffset Started = DateTimeOffset.UtcNow - (DateTime.Now - Process.GetCurrentProcess().StartTime);

    public Task<IReadOnlyList<SiloInfo>> GetSilosAsync(CancellationToken cancellationToken)
    {
        var catalog = services.GetRequiredService<Catalog>();
        var generation = (int)Math.Max(1, (Started - new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalSeconds);
        IReadOnlyList<SiloInfo> silos =
        [
            new SiloInfo($"embedded@{generation}", "127.0.0.1", 0, generation, "embedded", Dns.GetHostName(), "active",
                Started, DateTimeOffset.UtcNow, catalog.CountByGrainType()),
        ];
        return Task.FromResult(silos);
    }
}
