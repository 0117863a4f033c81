namespace BankGrains.TestSupport;

/// <summary>A fresh, private (0700) directory under the system temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "bankgrains-")
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
    }

    public string Path { get; }

    /// <summary>A path inside this directory (nothing is created).</summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public override string ToString() => Path;

    public void Dispose() => DeleteRecursively(Path);

    /// <summary>Best effort with a few retries: a file can stay busy for a moment after its handle closes.</summary>
    internal static void DeleteRecursively(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
                return;
            }
            catch (Exception) when (attempt < 5)
            {
                Thread.Sleep(50 * (attempt + 1));
            }
            catch (Exception)
            {
                return; // leaving a folder in /tmp must not fail a test
            }
        }
    }
}
