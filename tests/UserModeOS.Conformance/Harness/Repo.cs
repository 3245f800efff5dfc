namespace UserModeOS.Conformance.Harness;

/// <summary>Where the repository is.</summary>
public static class Repo
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "UserModeOS.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no UserModeOS.sln above {TestContext.CurrentContext.TestDirectory}");
    });

    /// <summary>The folder holding UserModeOS.sln.</summary>
    public static string Root => RootLazy.Value;
}
