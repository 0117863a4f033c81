using BankGrains.Grains;
using BankGrains.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The silo host without the HTTP API: serves grains only. Until cluster membership exists, run
// either this or the Api's embedded silo against one store, never both (see README).
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddBankGrainsSilo(silo => silo
    .AddGrains(typeof(AccountGrain).Assembly)
    .UseStorageFromConfiguration(builder.Configuration));
await builder.Build().RunAsync();
