using BankGrains.Runtime.Transactions;
using System.Reflection;
using BankGrains.Runtime.Persistence;
using Microsoft.Extensions.DependencyInjection;

namespace BankGrains.Runtime.Core;

/// <summary>
/// Constructs a grain instance: [PersistentState] parameters get a state bound to this grain id and
/// the named storage; every other parameter comes from the silo's services.
/// </summary>
internal static class GrainActivator
{
    public static Grain Create(GrainClassInfo info, ActivationData activation, List<IPersistentStateBinding> states)
    {
        var services = activation.Runtime.Services;
        var parameters = info.Constructor.GetParameters();
        var arguments = new object?[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            var parameter = parameters[i];
            if (parameter.GetCustomAttribute<TransactionalStateAttribute>() is { } transactional)
            {
                var state = CreateTransactionalState(parameter, transactional, info, activation, services);
                states.Add(state);
                arguments[i] = state;
            }
            else if (parameter.GetCustomAttribute<PersistentStateAttribute>() is { } attribute)
            {
                var state = CreateState(parameter, attribute, activation.GrainId, services);
                states.Add(state);
                arguments[i] = state;
            }
            else
            {
                arguments[i] = services.GetService(parameter.ParameterType)
                    ?? (parameter.HasDefaultValue ? parameter.DefaultValue
                        : throw new InvalidOperationException(
                            $"Grain {info.ClassType.Name} needs a {parameter.ParameterType.Name} ('{parameter.Name}') that is not registered."));
            }
        }
        return (Grain)info.Constructor.Invoke(arguments);
    }

    private static IPersistentStateBinding CreateTransactionalState(ParameterInfo parameter, TransactionalStateAttribute attribute,
        GrainClassInfo info, ActivationData activation, IServiceProvider services)
    {
        var type = parameter.ParameterType;
        if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(ITransactionalState<>))
            throw new InvalidOperationException($"[TransactionalState] parameter '{parameter.Name}' must be an ITransactionalState<T>.");
        // Prepare and commit address the grain by id, so there must be exactly one activation of it.
        if (info.MaxLocalWorkers is not null)
            throw new InvalidOperationException($"{info.ClassType.Name} is a [StatelessWorker]; it cannot have transactional state.");
        var storage = attribute.StorageName is null
            ? services.GetService<IGrainStorage>()
            : services.GetKeyedService<IGrainStorage>(attribute.StorageName);
        if (storage is null)
            throw new InvalidOperationException($"No grain storage '{attribute.StorageName ?? "(default)"}' is registered for state '{attribute.StateName}'.");
        var resource = activation.Transactions ??= new TransactionalResource(activation);
        var stateType = typeof(TransactionalState<>).MakeGenericType(type.GetGenericArguments()[0]);
        var state = Activator.CreateInstance(stateType, attribute.StateName, activation.GrainId, storage, resource)!;
        resource.Register((ITransactionalStateBinding)state);
        return (IPersistentStateBinding)state;
    }

    private static IPersistentStateBinding CreateState(ParameterInfo parameter, PersistentStateAttribute attribute, GrainId grainId, IServiceProvider services)
    {
        var type = parameter.ParameterType;
        if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(IPersistentState<>))
            throw new InvalidOperationException($"[PersistentState] parameter '{parameter.Name}' must be an IPersistentState<T>.");
        var storage = attribute.StorageName is null
            ? services.GetService<IGrainStorage>()
            : services.GetKeyedService<IGrainStorage>(attribute.StorageName);
        if (storage is null)
            throw new InvalidOperationException($"No grain storage '{attribute.StorageName ?? "(default)"}' is registered for state '{attribute.StateName}'.");
        var stateType = typeof(PersistentState<>).MakeGenericType(type.GetGenericArguments()[0]);
        return (IPersistentStateBinding)Activator.CreateInstance(stateType, attribute.StateName, grainId, storage, services.GetRequiredService<IGrainWriteFence>())!;
    }
}
