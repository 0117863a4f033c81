using System.Net;
using BankGrains.Api.Tests.Infrastructure;
using BankGrains.Runtime;
using BankGrains.Runtime.Persistence;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Xunit;

namespace BankGrains.Api.Tests;

/// <summary>Grain storage that fails every call: health must say so, without the failure's text.</summary>
public sealed class BrokenStorageApiFactory : ApiFactory
{
    public const string Secret = "Password=hunter2";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<IGrainStorage>();
            services.AddSingleton<IGrainStorage, BrokenStorage>();
        });
    }

    private sealed class BrokenStorage : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Fail();
        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Fail();
        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Fail();

        private static Task Fail() => Task.FromException(new IOException($"could not connect: {Secret}"));
    }
}

public sealed class UnhealthyStorageTests(BrokenStorageApiFactory factory) : IClassFixture<BrokenStorageApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/health")]
    [InlineData("/health/ready")]
    public async Task Health_and_readiness_are_503_when_storage_fails(string path)
    {
        var response = await _client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var health = await response.ReadJsonAsync();
        Assert.Equal("Unhealthy", health.Str("status"));
        Assert.Equal("Unhealthy", health.GetProperty("checks").GetProperty("storage").Str("status"));
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("silo").Str("status"));
        Assert.DoesNotContain("hunter2", text);
    }

    [Fact]
    public async Task Liveness_does_not_depend_on_storage()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task A_request_that_needs_storage_is_a_503_problem_without_the_failure_text()
    {
        var response = await _client.GetAsync($"/accounts/{Guid.NewGuid()}");
        var text = await response.Content.ReadAsStringAsync();

        await response.ExpectProblemAsync(HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.DoesNotContain("hunter2", text);
        Assert.DoesNotContain("could not connect", text);
    }
}
