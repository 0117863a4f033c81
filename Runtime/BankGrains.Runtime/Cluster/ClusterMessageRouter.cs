using System.Net;
using BankGrains.Runtime.Core;
using BankGrains.Runtime.Messaging;
using BankGrains.Runtime.Networking;
using Microsoft.Extensions.Logging;

namespace BankGrains.Runtime.Cluster;

/// <summary>
/// Routes each call to the silo that owns its grain in the current view: locally when that is this
/// silo (a new activation waits for the view's handoff barrier), otherwise over the transport with
/// the caller's view number. Retries only what certainly did not run: a peer that could not be
/// reached, or one that refused because it is not the owner; a call whose outcome is unknown (the
/// connection broke after it was sent) fails with <see cref="CallOutcomeUnknownException"/> unless
/// the method is [ReadOnly]. Clients use it without a catalog: every call goes to a silo.
/// </summary>
public sealed class ClusterMessageRouter : IMessageRouter
{
    public const int MaxHops = 2;

    private readonly IClusterViewSource _views;
    private readonly ConnectionPool _connections;
    private readonly LocalSilo? _self;
    private readonly Catalog? _catalog;
    private readonly HandoffCoordinator? _handoff;
    private readonly ILogger<ClusterMessageRouter> _logger;

    public ClusterMessageRouter(IClusterViewSource views, ConnectionPool connections, ILogger<ClusterMessageRouter> logger,
        LocalSilo? self = null, Catalog? catalog = null, HandoffCoordinator? handoff = null)
    {
        _views = views;
        _connections = connections;
        _logger = logger;
        _self = self;
        _catalog = catalog;
        _handoff = handoff;
        // A dead silo may not close its sockets (a crash, a partition): drop them so calls in flight fail now.
        _views.ViewChanged += view =>
        {
            foreach (var dead in view.Snapshot.Entries.Where(e => e.Status == Membership.SiloStatus.Dead))
                _connections.CloseConnection(new IPEndPoint(IPAddress.Parse(dead.Silo.Host), dead.Silo.Port), $"silo {dead.Silo} was declared dead");
        };
    }

    public void Send(Message message) => _ = RouteAsync(message, hops: 0);

    /// <summary>Routes until the call completes, fails, or its deadline passes; never throws.</summary>
    public async Task RouteAsync(Message message, int hops)
    {
        try
        {
            var attempt = 0;
            while (!message.Response.Task.IsCompleted)
            {
                if (message.IsExpired(DateTimeOffset.UtcNow))
                {
                    message.Fail(new GrainCallTimeoutException($"{message} found no silo to run it before its deadline."));
                    return;
                }
                var view = _views.Current;
                if (view.Active.Count == 0)
                {
                    await RetryPauseAsync(attempt++, refresh: true).ConfigureAwait(false);
                    continue;
                }
                var owner = OwnerFor(message, view);
                if (_self is not null && owner == _self.Address)
                {
                    await DeliverLocallyAsync(message, view).ConfigureAwait(false);
                    return;
                }
                if (await SendToAsync(owner, message, view, hops).ConfigureAwait(false)) return;
                await RetryPauseAsync(attempt++, refresh: true).ConfigureAwait(false);
            }
        }
        catch (Exception error)
        {
            message.Fail(error);
        }
    }

    /// <summary>Stateless workers run on the silo that receives the call; everything else on its ring owner.</summary>
    private Membership.SiloAddress OwnerFor(Message message, ClusterView view)
    {
        if (_catalog is not null && _self is not null && view.IsActive(_self.Address)
            && _catalog.IsStatelessWorker(message.Target.Type)) return _self.Address;
        return view.OwnerOf(message.Target);
    }

    /// <summary>Runs the call here: an existing activation at once; a new one after the view's handoff barrier.</summary>
    internal async Task DeliverLocallyAsync(Message message, ClusterView view)
    {
        if (!_catalog!.HasActivation(message.Target) && !_catalog.IsStatelessWorker(message.Target.Type))
        {
            try
            {
                await _handoff!.EnsureBarrierAsync(view, message.Deadline).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                message.Fail(new GrainCallTimeoutException($"{message}: the previous owner did not hand the grain over before the deadline; it did not run."));
                return;
            }
            if (_views.Current.Version != view.Version && _views.Current.OwnerOf(message.Target) != _self!.Address)
            {
                // The view moved on while we waited: route again.
                await RouteAsync(message, hops: 0).ConfigureAwait(false);
                return;
            }
        }
        _catalog.Deliver(message);
    }

    /// <summary>True when the call is finished (completed or failed); false when it certainly did not run and may go again.</summary>
    private async Task<bool> SendToAsync(Membership.SiloAddress owner, Message message, ClusterView view, int hops)
    {
        ReadOnlyMemory<byte> response;
        try
        {
            var payload = MessageCodec.EncodeRequest(new WireRequest(message, view.Version, hops));
            response = await _connections.SendRequestAsync(new IPEndPoint(IPAddress.Parse(owner.Host), owner.Port), payload, message.Deadline)
                .ConfigureAwait(false);
        }
        catch (TransportException error) when (!error.MayHaveBeenDelivered || message.Method.ReadOnly)
        {
            _logger.LogDebug(error, "{Message} not delivered to {Owner}; routing again", message, owner);
            return false;
        }
        catch (TransportException error)
        {
            message.Fail(new CallOutcomeUnknownException(
                $"{message}: the connection to {owner} broke after the call was sent; it may or may not have run.", error));
            return true;
        }
        catch (RequestTimeoutException error) when (!error.MayHaveBeenDelivered)
        {
            return false;
        }
        catch (TimeoutException)
        {
            message.Fail(new GrainCallTimeoutException($"{message} sent to {owner} did not complete before its deadline; it may or may not have run."));
            return true;
        }
        var (status, result, exception, rejectedAtView) = MessageCodec.DecodeResponse(response, message.Method.ResultType, message.Transaction);
        switch (status)
        {
            case ResponseStatus.Ok:
                message.Complete(result);
                return true;
            case ResponseStatus.Error:
                message.Fail(exception!);
                return true;
            default:
                _logger.LogDebug("{Owner} refused {Message} at view {View}: {Reason}", owner, message, rejectedAtView, exception?.Message);
                if (rejectedAtView > view.Version) await _views.RefreshAsync().ConfigureAwait(false);
                return false;
        }
    }

    private async Task RetryPauseAsync(int attempt, bool refresh)
    {
        if (refresh)
        {
            try { await _views.RefreshAsync().ConfigureAwait(false); }
            catch (Exception error) { _logger.LogDebug(error, "Membership refresh failed while routing"); }
        }
        await Task.Delay(Math.Min(20 * (1 << Math.Min(attempt, 5)), 500)).ConfigureAwait(false);
    }
}

/// <summary>
/// The call was sent, and then the connection to the silo running it broke: it may or may not have
/// run. It is not retried automatically; read the state (or use an idempotency key) before retrying.
/// </summary>
public sealed class CallOutcomeUnknownException(string message, Exception? inner = null) : Exception(message, inner);
