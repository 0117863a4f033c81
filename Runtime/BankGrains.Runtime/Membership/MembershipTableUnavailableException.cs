namespace BankGrains.Runtime.Membership;

/// <summary>
/// The membership table could not be read or written: the database is unreachable, timed out or
/// answered with an error (<see cref="Exception.InnerException"/> is the database's own exception).
/// For an insert or update this means the outcome is unknown — the change may have committed — so the
/// caller re-reads the table before deciding anything. The membership service treats it as "no
/// information": nobody is declared dead and nobody joins on the strength of it.
/// </summary>
public sealed class MembershipTableUnavailableException : Exception
{
    public MembershipTableUnavailableException(string clusterId, string message, Exception? inner = null)
        : base(message, inner)
    {
        ClusterId = clusterId;
    }

    public string ClusterId { get; }
}
