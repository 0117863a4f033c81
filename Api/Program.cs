using BankGrains.Api.Hosting;
using BankGrains.Runtime.Hosting;

var builder = WebApplication.CreateBuilder(args);

// The embedded default hosts the silo here, on SQLite in Storage:DataDirectory. With
// ConnectionStrings:Postgres the silo joins that cluster; with Cluster:Role=client this process runs
// no grains and calls the cluster's silos.
builder.Services.AddBankGrains(builder.Configuration, typeof(BankGrains.Grains.AccountGrain).Assembly);
builder.Services.AddBankGrainsApi(builder.Configuration);

var app = builder.Build();
app.UseBankGrainsApi();
app.MapBankGrainsApi();
app.Run();

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
