using BankGrains.Runtime.Core;
using BankGrains.Runtime.Messaging;
using BankGrains.Runtime.Networking;
using Microsoft.Extensions.Logging;

namespace BankGrains.Runtime.Cluster;

/// <summary>
/// What a silo does with a request from the network: system calls are answered directly; a grain
/// call runs here if this silo owns the grain in its view (catching up first when the sender knew
/// a newer view), is forwarded to the owner otherwise (bounded hops), and is refused — safely, it
/// did not run — when this silo may not act: no valid lease, or declared dead.
/// </summary>
public sealed class SiloRequestHandler(
    IClusterViewSource views,
    MembershipService membership,
    ClusterMessageRouter router,
    HandoffCoordinator handoff,
    LocalSilo self,
    Catalog catalog,
    Reminders.ReminderService reminders,
    ILogger<SiloRequestHandler> logger) : IRequestHandler
{
    private long _nextMessageId;
    private int _inFlight;
    private volatile bool _draining;

    public async ValueTask<ReadOnlyMemory<byte>> HandleAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (SystemCalls.IsSystemCall(payload.Span))
            return await SystemCalls.HandleAsync(payload, handoff, () => new SiloStats(catalog.CountByGrainType(), reminders.LocalCount)).ConfigureAwait(false);

        Interlocked.Increment(ref _inFlight);
        try
        {
            // A stopping silo takes no new calls; refusing is safe because they did not run here.
            if (_draining) return MessageCodec.EncodeRejection(views.Current.Version, $"silo {self.Address} is stopping");
            return await HandleGrainCallAsync(payload).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>Refuses new calls and waits (bounded) for the calls in progress to finish, before the listener closes.</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        _draining = true;
        var deadline = DateTime.UtcNow + timeout;
        while (Volatile.Read(ref _inFlight) > 0 && DateTime.UtcNow < deadline) await Task.Delay(10).ConfigureAwait(false);
    }

    private async Task<ReadOnlyMemory<byte>> HandleGrainCallAsync(ReadOnlyMemory<byte> payload)
    {
        var request = MessageCodec.DecodeRequest(payload, Interlocked.Increment(ref _nextMessageId));
        var message = request.Message;
        if (request.ViewVersion > views.Current.Version) await TryRefreshAsync().ConfigureAwait(false);
        // Paused past its lease, or declared dead: confirm membership before acting on anything.
        if (!await membership.MayServeAsync().ConfigureAwait(false))
            return MessageCodec.EncodeRejection(views.Current.Version, $"silo {self.Address} is not a confirmed member");

        var view = views.Current;
        if (view.IsActive(self.Address) && (view.OwnerOf(message.Target) == self.Address || catalog.IsStatelessWorker(message.Target.Type)))
            await router.DeliverLocallyAsync(message, view).ConfigureAwait(false);
        else if (request.Hops < ClusterMessageRouter.MaxHops && view.Active.Count > 0)
            _ = router.RouteAsync(message, request.Hops + 1);
        else
            return MessageCodec.EncodeRejection(view.Version, $"silo {self.Address} does not own {message.Target} in view {view.Version}");

        try
        {
            var result = await message.Response.Task.ConfigureAwait(false);
            return MessageCodec.EncodeResult(result, message.Method.ResultType, message.Transaction);
        }
        catch (Exception error)
        {
            return MessageCodec.EncodeError(error, message.Transaction);
        }
    }

    private async Task TryRefreshAsync()
    {
        try { await views.RefreshAsync().ConfigureAwait(false); }
        catch (Exception error) { logger.LogWarning(error, "Membership refresh failed"); }
    }
}
