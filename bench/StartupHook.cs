using BankGrains.Bench;

/// <summary>
/// Loaded into the Api process the bench starts (<c>DOTNET_STARTUP_HOOKS</c>; the runtime looks for
/// this type name in the global namespace). The Api then ends with the closing lines a bench silo host
/// prints — its transactions when it ran any, its GC pauses, its timeline of pauses and group commits —
/// so a REST run's tail can be attributed in the Api's process too, whether it is a client or a silo.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        var timeline = SiloTimeline.Start();
        var gcPauses = new GcPauses(timeline);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => SiloHost.PrintSummary(timeline, gcPauses);
    }
}
