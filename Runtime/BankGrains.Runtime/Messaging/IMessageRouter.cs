namespace BankGrains.Runtime.Messaging;

/// <summary>
/// Delivers a request to the activation that must run it. The single-silo router hands it to the
/// local catalog; a cluster router decides the owner first and forwards over the network.
/// </summary>
public interface IMessageRouter
{
    void Send(Message message);
}
