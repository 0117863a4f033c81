using System.Globalization;
using BankGrains.Runtime.CodeGeneration;

namespace BankGrains.Runtime.Core;

/// <summary>Makes generated proxies for grain ids; every proxy sends through the one call invoker.</summary>
public sealed class GrainFactory(GrainClassRegistry classes, IGrainCallInvoker invoker) : IGrainFactory
{
    public TGrainInterface GetGrain<TGrainInterface>(Guid key) where TGrainInterface : IGrainWithGuidKey
        => Create<TGrainInterface>(key.ToString("D"));

    public TGrainInterface GetGrain<TGrainInterface>(string key) where TGrainInterface : IGrainWithStringKey
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return Create<TGrainInterface>(key);
    }

    public TGrainInterface GetGrain<TGrainInterface>(long key) where TGrainInterface : IGrainWithIntegerKey
        => Create<TGrainInterface>(key.ToString(CultureInfo.InvariantCulture));

    public TGrainInterface GetGrain<TGrainInterface>(GrainId grainId) where TGrainInterface : IGrain
        => (TGrainInterface)(object)GrainInterfaceRegistry.Get(typeof(TGrainInterface))
            .CreateProxy(new GrainReferenceArgs(invoker, grainId, GrainInterfaceRegistry.Get(typeof(TGrainInterface))));

    private TGrainInterface Create<TGrainInterface>(string key)
    {
        var info = classes.ForInterface(typeof(TGrainInterface));
        var description = GrainInterfaceRegistry.Get(typeof(TGrainInterface));
        return (TGrainInterface)(object)description.CreateProxy(new GrainReferenceArgs(invoker, new GrainId(info.TypeName, key), description));
    }
}
