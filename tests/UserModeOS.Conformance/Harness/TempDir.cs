namespace UserModeOS.Conformance.Harness;

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "umos-conf")
    {
        Path = Directory.CreateTempSubdirectory(prefix + "-").FullName;
    }

    public string Path { get; }

    /// <summary>A path inside this folder.</summary>
    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    /// <summary>Writes a file (creating parent folders) and returns its full path.</summary>
    public string Write(string relative, byte[] content, UnixFileMode? mode = null)
    {
        var full = this[relative];
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
        if (mode is { } m)
        {
            File.SetUnixFileMode(full, m);
        }

        return full;
    }

    public string Write(string relative, string content, UnixFileMode? mode = null) =>
        Write(relative, System.Text.Encoding.UTF8.GetBytes(content), mode);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
