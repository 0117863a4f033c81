namespace BankGrains.Runtime.Core;

/// <summary>The local activations of one [StatelessWorker] grain id: an idle one takes the call, else a new one up to the limit.</summary>
internal sealed class StatelessWorkerPool(GrainId grainId, GrainClassInfo info, int maxWorkers, GrainRuntime runtime)
{
    private readonly List<ActivationData> _workers = new();

    public IReadOnlyList<ActivationData> Activations { get { lock (_workers) return _workers.ToArray(); } }

    public void Deliver(RequestWorkItem item)
    {
        while (true)
        {
            ActivationData chosen;
            lock (_workers)
            {
                chosen = _workers.FirstOrDefault(w => w.Load == 0)
                    ?? (_workers.Count < maxWorkers ? Add() : _workers.MinBy(w => w.Load)!);
            }
            if (chosen.TryEnqueue(item)) return;
            Remove(chosen);
        }
    }

    public void Remove(ActivationData activation)
    {
        lock (_workers) _workers.Remove(activation);
    }

    private ActivationData Add()
    {
        var activation = new ActivationData(grainId, info, runtime);
        _workers.Add(activation);
        return activation;
    }
}
