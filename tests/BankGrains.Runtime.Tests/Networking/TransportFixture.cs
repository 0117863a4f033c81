using System.Diagnostics;
using System.Net;
using System.Text;
using BankGrains.Runtime.Networking;
using Microsoft.Extensions.Logging;

namespace BankGrains.Runtime.Tests.Networking;

/// <summary>Helpers shared by the transport tests.</summary>
internal static class TransportFixture
{
    public static TransportListener StartListener(Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask<ReadOnlyMemory<byte>>> handler,
        TransportOptions? options = null, ILogger? logger = null, int port = 0)
    {
        var listener = new TransportListener(new IPEndPoint(IPAddress.Loopback, port), handler, options, logger);
        listener.Start();
        return listener;
    }

    /// <summary>Answers "echo:" + the request.</summary>
    public static ValueTask<ReadOnlyMemory<byte>> Echo(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        ValueTask.FromResult<ReadOnlyMemory<byte>>(Bytes("echo:" + Text(payload)));

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    public static DateTimeOffset In(TimeSpan span) => DateTimeOffset.UtcNow + span;

    public static DateTimeOffset Soon => In(TimeSpan.FromSeconds(10));

    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < (timeout ?? TimeSpan.FromSeconds(5)))
        {
            if (condition()) return true;
            await Task.Delay(5);
        }

        return condition();
    }
}
