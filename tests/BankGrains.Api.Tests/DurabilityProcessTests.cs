using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using BankGrains.Api.Tests.Infrastructure;
using BankGrains.TestSupport;
using Xunit;

namespace BankGrains.Api.Tests;

/// <summary>The API as a real process, killed with SIGKILL and restarted on the same data directory.</summary>
public sealed class DurabilityProcessTests : IDisposable
{
    private readonly TempDirectory _data = new("bankgrains-api-durability-");
    private ApiProcess? _api;

    [Fact]
    public async Task Every_acknowledged_deposit_survives_a_sigkill()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        _api = await ApiProcess.StartAsync(_data.Path, timeout.Token);
        var bank = new Bank(_api.Client);
        var account = await bank.NewAccountAsync();
        var acknowledged = new ConcurrentBag<decimal>();

        async Task DepositAsync(int i)
        {
            var amount = i + (i % 100) / 100m; // 1.01, 2.02, … distinct amounts, so a lost one shows in the sum
            var text = amount.ToString("0.00", CultureInfo.InvariantCulture);
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/accounts/{account}/deposits") { Content = Http.Json(Bank.MoneyBody(text, "USD")) };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            using var response = await _api!.Client.SendAsync(request, timeout.Token);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"deposit {text}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            acknowledged.Add(amount);
        }

        for (var i = 1; i <= 20; i++) await DepositAsync(i);
        await Task.WhenAll(Enumerable.Range(21, 30).Select(DepositAsync));

        Assert.Equal(50, acknowledged.Count);
        var expected = acknowledged.Sum().ToString("0.00", CultureInfo.InvariantCulture);
        Assert.Equal(expected, (await bank.GetAccountAsync(account)).Amount("balance"));

        var killed = _api.Id;
        _api.Kill();
        _api.Dispose();
        _api = await ApiProcess.StartAsync(_data.Path, timeout.Token);
        Assert.NotEqual(killed, _api.Id);
        bank = new Bank(_api.Client);

        var recovered = await bank.GetAccountAsync(account);
        Assert.True(expected == recovered.Amount("balance"), $"balance after SIGKILL: {recovered.Amount("balance")}, acknowledged: {expected}\n{_api.Output}");
        Assert.Equal("active", recovered.Str("status"));

        // The restarted process keeps serving the same account.
        var after = await bank.DepositAsync(account, "0.99");
        Assert.Equal((acknowledged.Sum() + 0.99m).ToString("0.00", CultureInfo.InvariantCulture), after.Amount("balance"));
    }

    public void Dispose()
    {
        _api?.Dispose();
        _data.Dispose();
    }
}
