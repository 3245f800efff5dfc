namespace UserModeOS.Kernel.Vfs;

/// <summary>
/// What Linux's dentries give a path-based VFS: the names that processes hold — open file
/// descriptions (and the mapped files among them), working directories and running programs —
/// follow a rename of themselves or of a directory above them (d_move()), and read
/// " (deleted)" once their name is unlinked or renamed over (d_delete()), as /proc/[pid]/fd,
/// maps, cwd and exe then show and as later relative walks from them need. Only changes made
/// through this VFS are seen; a host folder changed behind the guest's back is not.
/// </summary>
internal static class HeldNames
{
    /// <summary>rename(2) of canonical mount-table path <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static void Renamed(Kernel kernel, string from, string to, bool exchange) =>
        Update(kernel, path =>
            Below(path, from) is { } rest ? to + rest :
            exchange && Below(path, to) is { } other ? from + other :
            !exchange && path == to ? path + VirtualFileSystem.DeletedSuffix :
            null);

    /// <summary>unlink(2) or rmdir(2) of canonical mount-table path <paramref name="path"/>.</summary>
    public static void Unlinked(Kernel kernel, string path) =>
        Update(kernel, held => held == path ? held + VirtualFileSystem.DeletedSuffix : null);

    /// <summary>The part of <paramref name="path"/> below <paramref name="directory"/> ("" for itself), or null.</summary>
    private static string? Below(string path, string directory) =>
        path == directory ? "" :
        path.StartsWith(directory, StringComparison.Ordinal) && path.Length > directory.Length && path[directory.Length] == '/' ? path[directory.Length..] :
        null;

    /// <summary>Applies <paramref name="rename"/> (a mount-table path to its new one, or null when unchanged) to every held name, once each.</summary>
    private static void Update(Kernel kernel, Func<string, string?> rename)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var group in kernel.Processes())
        {
            var fs = group.Fs;
            if (seen.Add(fs) && Moved(fs.Root, fs.Cwd, rename) is { } cwd)
            {
                fs.Cwd = cwd;
            }

            if (Moved(fs.Root, group.ExePath, rename) is { } exe)
            {
                group.ExePath = exe;
            }

            var fds = group.Fds;
            if (seen.Add(fds))
            {
                foreach (var fd in fds.OpenFds())
                {
                    Update(fds.Get(fd), seen, rename);
                }
            }

            foreach (var vma in group.Mm.Vmas())
            {
                Update(vma.File, seen, rename);
            }
        }
    }

    private static void Update(OpenFile? file, HashSet<object> seen, Func<string, string?> rename)
    {
        if (file is not null && seen.Add(file) && !VirtualFileSystem.IsUnnamed(file.Path) && Moved(file.Root, file.Path, rename) is { } path)
        {
            file.Path = path;
        }
    }

    /// <summary>The new name of <paramref name="path"/> (seen below <paramref name="root"/>), or null when it did not change.</summary>
    private static string? Moved(string root, string path, Func<string, string?> rename)
    {
        if (!path.StartsWith('/'))
        {
            return null;
        }

        var global = root == "/" ? path : path == "/" ? root : root + path;
        return rename(global) is { } moved ? VirtualFileSystem.Below(root, moved) : null;
    }
}
