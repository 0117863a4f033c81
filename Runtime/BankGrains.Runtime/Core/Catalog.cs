using System.Collections.Concurrent;
using BankGrains.Runtime.Messaging;
using Microsoft.Extensions.DependencyInjection;

namespace BankGrains.Runtime.Core;

/// <summary>
/// The silo's activation directory: at most one activation per grain id (or a bounded pool for
/// [StatelessWorker] classes). Delivers requests, creating activations on demand, and removes an
/// activation only after it has fully deactivated.
/// </summary>
public sealed class Catalog
{
    private readonly ConcurrentDictionary<GrainId, ActivationData> _activations = new();
    private readonly ConcurrentDictionary<GrainId, StatelessWorkerPool> _workers = new();
    private readonly GrainRuntime _runtime;
    private volatile bool _killed;

    internal Catalog(GrainRuntime runtime) => _runtime = runtime;

    public void Deliver(Message message) => Deliver(new RequestWorkItem(message));

    internal void Deliver(RequestWorkItem item)
    {
        var id = item.Message.Target;
        if (_killed)
        {
            item.Abandon(new SiloUnavailableException($"The silo holding {id} has stopped."));
            return;
        }
        if (!_runtime.Classes.TryGetByTypeName(id.Type, out var info))
        {
            item.Abandon(new InvalidOperationException($"No grain class with type name '{id.Type}' is registered in this silo."));
            return;
        }
        if (info.MaxLocalWorkers is { } max)
        {
            _workers.GetOrAdd(id, static (grainId, s) => new StatelessWorkerPool(grainId, s.info, s.max, s.runtime), (info, max, runtime: _runtime))
                .Deliver(item);
            return;
        }
        while (true)
        {
            var activation = _activations.GetOrAdd(id, static (grainId, s) => new ActivationData(grainId, s.info, s.runtime), (info, runtime: _runtime));
            if (activation.TryEnqueue(item)) return;
            // It finished deactivating between lookup and enqueue: drop it and make a new one.
            _activations.TryRemove(KeyValuePair.Create(id, activation));
        }
    }

    internal void OnDestroyed(ActivationData activation, List<WorkItem> leftovers)
    {
        if (activation.ClassInfo.MaxLocalWorkers is null) _activations.TryRemove(KeyValuePair.Create(activation.GrainId, activation));
        else if (_workers.TryGetValue(activation.GrainId, out var pool)) pool.Remove(activation);
        // Routed again, not delivered here: the grain may belong to another silo by now.
        if (leftovers.Count == 0) return;
        var router = _runtime.Services.GetRequiredService<IMessageRouter>();
        foreach (var item in leftovers.OfType<RequestWorkItem>()) router.Send(item.Message);
    }

    /// <summary>[StatelessWorker] grains are activated wherever they are called, never routed by owner.</summary>
    public bool IsStatelessWorker(string grainType) => _runtime.Classes.TryGetByTypeName(grainType, out var info) && info.MaxLocalWorkers is not null;

    /// <summary>True when this silo has a live activation of <paramref name="grainId"/> (no new activation is needed).</summary>
    public bool HasActivation(GrainId grainId) =>
        _activations.TryGetValue(grainId, out var activation) && activation.State != ActivationState.Invalid;

    /// <summary>Deactivates the activations that match, after their running work, and waits (bounded) until they are gone.</summary>
    public async Task<int> DeactivateAsync(Func<GrainId, bool> which, DeactivationReason reason, TimeSpan timeout)
    {
        var leaving = _activations.Values.Where(a => which(a.GrainId)).ToList();
        foreach (var activation in leaving) activation.DeactivateOnIdle(reason);
        var all = Task.WhenAll(leaving.Select(a => a.Deactivated));
        if (await Task.WhenAny(all, Task.Delay(timeout)).ConfigureAwait(false) != all)
        {
            // A turn that never ends must not hold up the cluster: drop what is left, as a crash would.
            foreach (var stuck in leaving.Where(a => !a.Deactivated.IsCompleted)) stuck.Kill(new SiloUnavailableException($"{stuck.GrainId} moved to another silo."));
            foreach (var stuck in leaving) _activations.TryRemove(KeyValuePair.Create(stuck.GrainId, stuck));
        }
        return leaving.Count;
    }

    internal IEnumerable<ActivationData> Activations => _activations.Values.Concat(_workers.Values.SelectMany(p => p.Activations));

    /// <summary>Activations currently in memory, by grain type name.</summary>
    public IReadOnlyDictionary<string, int> CountByGrainType() =>
        Activations.Where(a => a.State != ActivationState.Invalid)
            .GroupBy(a => a.GrainId.Type).ToDictionary(g => g.Key, g => g.Count());

    public int ActivationCount => Activations.Count(a => a.State != ActivationState.Invalid);

    /// <summary>Collects activations idle longer than their class's age limit (or the silo default).</summary>
    internal int CollectExpired(TimeSpan defaultAge)
    {
        var now = _runtime.Time.GetUtcNow();
        return Activations.Count(a => a.TryCollect(now, a.ClassInfo.CollectionAge ?? defaultAge));
    }

    /// <summary>Graceful stop: every activation finishes its running work, then deactivates.</summary>
    public async Task DeactivateAllAsync(TimeSpan timeout)
    {
        var reason = new DeactivationReason(DeactivationReasonCode.ShuttingDown, "silo is shutting down");
        var all = Activations.ToList();
        foreach (var activation in all) activation.DeactivateOnIdle(reason);
        await Task.WhenAll(all.Select(a => a.Deactivated)).WaitAsync(timeout).ConfigureAwait(false);
        _killed = true;
        KillAll();
    }

    /// <summary>A crash as seen from outside: no grain code runs, queued calls fail.</summary>
    public void KillAll()
    {
        _killed = true;
        var error = new SiloUnavailableException("The silo was stopped.");
        foreach (var activation in Activations.ToList()) activation.Kill(error);
        _activations.Clear();
        _workers.Clear();
    }
}
