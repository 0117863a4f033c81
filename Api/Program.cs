using BankGrains.Api.Hosting;
using BankGrains.Runtime.Hosting;

var builder = WebApplication.CreateBuilder(args);

// The embedded default: this process hosts the silo, with SQLite in Storage:DataDirectory unless
// ConnectionStrings:Postgres is set.
builder.Services.AddBankGrainsSilo(silo => silo
    .AddGrains(typeof(BankGrains.Grains.AccountGrain).Assembly)
    .UseStorageFromConfiguration(builder.Configuration));
builder.Services.AddBankGrainsApi();

var app = builder.Build();
app.UseBankGrainsApi();
app.MapBankGrainsApi();
app.Run();

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
