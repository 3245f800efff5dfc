namespace UserModeOS.Kernel.Vfs;

/// <summary>Guest path arithmetic, done entirely in the guest's namespace.</summary>
public static class PathNames
{
    /// <summary>
    /// Makes <paramref name="path"/> absolute against <paramref name="cwd"/> and folds "." and
    /// "..", with ".." at the root staying at the root (path_resolution(7)).
    /// </summary>
    public static string Normalize(string cwd, string path)
    {
        var parts = new List<string>();
        if (!path.StartsWith('/'))
        {
            Fold(parts, cwd);
        }

        Fold(parts, path);
        return "/" + string.Join('/', parts);
    }

    private static void Fold(List<string> parts, string path)
    {
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(part);
        }
    }

    /// <summary>The directory part of a canonical path ("/" for "/" and for names in it).</summary>
    public static string Parent(string path)
    {
        var cut = path.LastIndexOf('/');
        return cut <= 0 ? "/" : path[..cut];
    }

    /// <summary>The last component of a path ("" for "/").</summary>
    public static string FileName(string path)
    {
        var i = path.TrimEnd('/').LastIndexOf('/');
        return i < 0 ? path : path[(i + 1)..].TrimEnd('/');
    }
}
