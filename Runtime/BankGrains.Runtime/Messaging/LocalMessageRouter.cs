using BankGrains.Runtime.Core;

namespace BankGrains.Runtime.Messaging;

/// <summary>The single-silo router: every grain is owned here, so every message goes to the local catalog.</summary>
public sealed class LocalMessageRouter(Catalog catalog) : IMessageRouter
{
    public void Send(Message message) => catalog.Deliver(message);
}
