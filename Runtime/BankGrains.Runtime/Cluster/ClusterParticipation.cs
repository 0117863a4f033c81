using System.Net;
using BankGrains.Runtime.Core;
using BankGrains.Runtime.Hosting;
using BankGrains.Runtime.Networking;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BankGrains.Runtime.Cluster;

/// <summary>
/// A silo's life in the cluster. Start: listen, take an identity (address:port:generation), join
/// the membership. Graceful stop: ShuttingDown (leaves every ring), hand off all activations, Dead,
/// stop listening. Kill: stop answering and stop membership, touching nothing (as a crash). Declared
/// dead by the others: drop every activation at once and stop the process.
/// </summary>
public sealed class ClusterParticipation(
    LocalSilo self,
    MembershipService membership,
    IClusterViewSource views,
    HandoffCoordinator handoff,
    SiloRequestHandler handler,
    ConnectionPool connections,
    Catalog catalog,
    IOptions<ClusterOptions> cluster,
    IOptions<GrainCollectionOptions> collection,
    IOptions<MembershipOptions> membershipOptions,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggers)
{
    private TransportListener? _listener;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = cluster.Value;
        _listener = new TransportListener(new IPEndPoint(IPAddress.Parse(options.ListenAddress), options.SiloPort), handler,
            logger: loggers.CreateLogger<TransportListener>());
        _listener.Start();
        self.Bind(options.AdvertisedAddress ?? LocalSilo.DetectAddress(), _listener.Port, options.SiloName);
        membership.DeclaredDead += OnDeclaredDead;
        await membership.JoinAsync(cancellationToken);
        await handoff.SettleAsync(views.Current);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (membership.IsDeclaredDead) return;
        try
        {
            await membership.BeginLeavingAsync(cancellationToken);
            await handoff.SettleAsync(await views.RefreshAsync());
        }
        catch (Exception error)
        {
            // The table is unreachable: leave anyway; the others will declare this silo dead by probing.
            loggers.CreateLogger<ClusterParticipation>().LogWarning(error, "Could not announce leaving; stopping without it");
        }
        await handler.DrainAsync(collection.Value.DeactivationTimeout);
        // Keep refusing (safe: refused calls did not run) until every peer has re-read the table and
        // stopped sending here; a call that reached a closing connection would have an unknown outcome.
        await Task.Delay(membershipOptions.Value.RefreshPeriod * 2, CancellationToken.None);
        await handler.DrainAsync(collection.Value.DeactivationTimeout);
        await membership.LeaveAsync(cancellationToken);
        // Answers of the drained calls may still be queued: send them before closing.
        if (_listener is { } listener) await listener.StopAsync(TimeSpan.FromSeconds(5));
        await StopListeningAsync();
        await membership.DisposeAsync();
    }

    public void Kill()
    {
        membership.Halt();
        _ = StopListeningAsync();
    }

    private void OnDeclaredDead()
    {
        // Nothing may run or write any more: the cluster already gave this silo's grains to others.
        catalog.KillAll();
        _ = StopListeningAsync();
        Environment.ExitCode = cluster.Value.ExitCodeWhenDeclaredDead;
        lifetime.StopApplication();
    }

    private async Task StopListeningAsync()
    {
        if (_listener is { } listener) await listener.StopAsync();
        await connections.DisposeAsync();
    }
}
