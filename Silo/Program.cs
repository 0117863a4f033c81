using BankGrains.Grains;
using BankGrains.Runtime.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

// A silo host without HTTP. With ConnectionStrings:Postgres it joins that cluster (Cluster:Id) on
// Cluster:SiloPort; without it, it is a single silo on SQLite (never run two of those on one store).
var builder = Host.CreateApplicationBuilder(args);
if (builder.Configuration.GetSection(ClusterOptions.Section).Get<ClusterOptions>() is { IsClient: true })
    throw new InvalidOperationException("The Silo host always runs a silo; Cluster:Role=client is for the Api.");
builder.Services.AddBankGrains(builder.Configuration, typeof(AccountGrain).Assembly);
await builder.Build().RunAsync();
