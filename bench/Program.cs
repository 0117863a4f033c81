// Benchmarks live here (one command per scenario). None is written yet: say so instead of pretending.
Console.Error.WriteLine("No benchmark scenarios yet. Usage (planned): dotnet run -c Release --project bench -- <scenario> [--seconds N]");
return 2;
