namespace UserModeOS.Kernel.Vfs;

/// <summary>How a walk treats its last component.</summary>
[Flags]
public enum WalkFlags
{
    None = 0,

    /// <summary>Follow a symlink (or magic link) in the last component (stat, open, chdir, exec).</summary>
    Follow = 1,

    /// <summary>
    /// A trailing slash does not make the walk follow a last-component symlink (unlink, rmdir,
    /// rename, mkdir): the symlink itself is the result, and the caller decides.
    /// </summary>
    NoFollowTrailing = 2,
}

/// <summary>Where a walk ended.</summary>
public readonly record struct WalkResult
{
    /// <summary>The canonical (symlink-free, absolute, normalised) guest path.</summary>
    public required string Path { get; init; }

    /// <summary>
    /// The canonical path in the mount table: <see cref="Path"/> below the walking process's
    /// root (chroot(2)); the same as <see cref="Path"/> for a process whose root is "/".
    /// </summary>
    public string GlobalPath { get => field ?? Path; init; }

    /// <summary>The mount owning <see cref="Path"/>.</summary>
    public required Mount Mount { get; init; }

    /// <summary>The path within <see cref="Mount"/>'s filesystem.</summary>
    public required string Relative { get; init; }

    /// <summary>False when every component but the last exists and the last does not (a name to create).</summary>
    public required bool Exists { get; init; }

    /// <summary>The last component's lstat (valid when <see cref="Exists"/>).</summary>
    public StatInfo Stat { get; init; }

    /// <summary>A followed magic link to an object without a path (a pipe): the open file itself.</summary>
    public OpenFile? MagicFile { get; init; }

    /// <summary>The path ended in "/" (or a last "." or ".."): it must name a directory.</summary>
    public bool TrailingSlash { get; init; }

    public IFileSystem FileSystem => Mount.FileSystem;

    public bool IsDirectory => Exists && Stat.IsDirectory;

    public bool IsSymlink => Exists && (Stat.Mode & InodeMode.TypeMask) == InodeMode.Symlink;
}

/// <summary>
/// namei: the path walk of path_resolution(7), done entirely in the guest's namespace. Each
/// component is looked up on the filesystem that owns it (crossing mounts), "." is skipped,
/// ".." goes to the parent of the canonical path so far but never above the walk's root,
/// symlinks are read and followed by us (absolute targets restart at the root) with at
/// most 40 links per walk (ELOOP), a missing or non-directory intermediate component is
/// ENOENT or ENOTDIR, and a trailing slash demands a directory. Looking a name up in a
/// directory needs search (execute) permission on it (EACCES). No filesystem is ever asked
/// to follow a symlink.
/// </summary>
public static class PathWalk
{
    /// <summary>MAXSYMLINKS.</summary>
    public const int MaxLinks = 40;

    /// <summary>
    /// Walks absolute guest path <paramref name="path"/> (not yet normalised: callers join a
    /// relative path to a canonical cwd or directory path).
    /// </summary>
    public static Errno Walk(MountTable mounts, Task? caller, string path, WalkFlags flags, out WalkResult result) =>
        Walk(mounts, caller, path, flags, new WalkScope(caller?.Group.Fs.Root ?? "/"), out result);

    /// <summary>
    /// Walks guest path <paramref name="path"/> (absolute within <paramref name="root"/>, a
    /// canonical mount-table path): the walk starts at the root, ".." never goes above it,
    /// absolute symlinks and magic links restart there, and the result's
    /// <see cref="WalkResult.Path"/> is relative to it.
    /// </summary>
    public static Errno Walk(MountTable mounts, Task? caller, string path, WalkFlags flags, string root, out WalkResult result) =>
        Walk(mounts, caller, path, flags, new WalkScope(root), out result);

    /// <summary>
    /// Walks <paramref name="path"/> within <paramref name="scope"/>: an absolute path starts at
    /// its root, a relative one at its start directory; openat2(2)'s RESOLVE_* flags apply.
    /// </summary>
    public static Errno Walk(MountTable mounts, Task? caller, string path, WalkFlags flags, WalkScope scope, out WalkResult result)
    {
        result = default;
        var root = scope.Root;
        var resolve = scope.Resolve;
        var beneath = (resolve & ResolveFlags.Beneath) != 0;
        var scoped = beneath || (resolve & ResolveFlags.InRoot) != 0;
        var noSymlinks = (resolve & ResolveFlags.NoSymlinks) != 0;
        var noMagic = noSymlinks || (resolve & ResolveFlags.NoMagicLinks) != 0;
        var noXdev = (resolve & ResolveFlags.NoXdev) != 0;
        var rootParts = root == "/" ? [] : root.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (path.Length == 0)
        {
            return Errno.ENOENT;
        }

        var trailing = path.EndsWith('/') || path.EndsWith("/.", StringComparison.Ordinal) || path.EndsWith("/..", StringComparison.Ordinal) ||
            path is "." or "..";
        var followLast = (flags & WalkFlags.Follow) != 0 || (trailing && (flags & WalkFlags.NoFollowTrailing) == 0);

        // Components still to walk, the next one last.
        var pending = new List<string>(8);
        PushComponents(pending, path);
        if (beneath && path.StartsWith('/'))
        {
            return Errno.EXDEV;
        }

        var current = new List<string>(rootParts);
        if (!path.StartsWith('/') && scope.Start is { } start)
        {
            current = new List<string>(start.Split('/', StringSplitOptions.RemoveEmptyEntries));
        }

        // The canonical path of current, once joined (null while current changes).
        string? currentPath = null;
        var startMount = mounts.Find(currentPath = Join(current, current.Count));
        // Root may search any directory (CAP_DAC_OVERRIDE): only others pay for the checks.
        var searcher = scope.Cred ?? caller?.Cred;
        if (searcher is { IsFsPrivileged: true })
        {
            searcher = null;
        }

        // A relative path reaches us joined to the cwd, but Linux starts such a walk at the cwd:
        // the cwd's ancestors are not searched. Until the walk leaves the cwd's own components
        // (a symlink or ".."), neither are they here.
        var cwdParts = searcher is not null && caller is not null && path.StartsWith('/') && scope.Start is null
            ? CwdPartsIfPrefix(rootParts, caller.Group.Cwd, path)
            : null;

        var links = 0;
        StatInfo st = default;
        var statValid = false;
        var exists = true;
        OpenFile? magicFile = null;

        while (pending.Count > 0)
        {
            var name = pending[^1];
            pending.RemoveAt(pending.Count - 1);
            if (name == "..")
            {
                cwdParts = null;
            }

            if (searcher is not null && !IsStrictPrefix(current, cwdParts))
            {
                // The directory's lstat is the last step's when that step ended here.
                var denied = MaySearch(mounts, caller, searcher, currentPath ??= Join(current, current.Count), statValid ? st : null);
                if (denied != Errno.None)
                {
                    return denied;
                }
            }

            if (name == ".")
            {
                continue;
            }

            if (name == "..")
            {
                if (current.Count > rootParts.Length)
                {
                    current.RemoveAt(current.Count - 1);
                    currentPath = null;
                }
                else if (beneath)
                {
                    return Errno.EXDEV;
                }

                if (noXdev && mounts.Find(currentPath ??= Join(current, current.Count)) != startMount)
                {
                    return Errno.EXDEV;
                }

                statValid = false;
                continue;
            }

            // Fast path: several plain names on one filesystem, with no mount point on their way,
            // asked at once; the filesystem refuses (ELOOP/ENOTDIR/ENOENT) when an intermediate
            // one is not a real directory. A refusal is the last name's own (what asking for it
            // alone would answer) when the names before it are all real directories: the
            // filesystem may tell (IStatWithParent, which also tells a missing or non-directory
            // name on the way), else they are asked again at once; if they are not, we go one
            // component at a time.
            var chunk = 1;
            var basePath = currentPath ??= Join(current, current.Count);
            if (pending.Count > 0 && searcher is null)
            {
                while (chunk <= pending.Count && pending[^chunk] is not ("." or ".."))
                {
                    chunk++;
                }
            }

            Errno e;
            string childPath;
            Mount mount;
            string relative;
            while (true)
            {
                childPath = ChildPath(basePath, name, pending, chunk);
                mount = mounts.Find(childPath);

                // The longest mount point on the chunk's way is the one the base lies on: none between.
                if (chunk > 1 && mount != mounts.Find(basePath))
                {
                    chunk = 1;
                    continue;
                }

                if (noXdev && mount != startMount)
                {
                    if (chunk > 1)
                    {
                        chunk = 1;
                        continue;
                    }

                    return Errno.EXDEV;
                }

                relative = mount.Relative(childPath);
                var withParent = chunk > 1 ? mount.FileSystem as IStatWithParent : null;
                var parentIsDirectory = false;
                e = withParent is not null
                    ? withParent.Stat(relative, caller, out st, out parentIsDirectory)
                    : mount.FileSystem.Stat(relative, caller, out st);
                if (e == Errno.None || chunk == 1 || parentIsDirectory)
                {
                    break;
                }

                if (withParent is not null && e is Errno.ENOENT or Errno.ENOTDIR)
                {
                    // A name before the last is missing or no directory, with no symlink before it.
                    return e;
                }

                if (withParent is null &&
                    mount.FileSystem.Stat(mount.Relative(ChildPath(basePath, name, pending, chunk - 1)), caller, out var parent) == Errno.None &&
                    parent.IsDirectory)
                {
                    break;
                }

                chunk = 1;
            }

            // The chunk's names are now all walked: the intermediate ones were directories.
            current.Add(name);
            for (var i = 1; i < chunk; i++)
            {
                current.Add(pending[^1]);
                pending.RemoveAt(pending.Count - 1);
            }

            currentPath = childPath;

            var isLast = pending.Count == 0;
            if (e == Errno.ENOENT && isLast)
            {
                exists = false;
                statValid = false;
                break;
            }

            if (e != Errno.None)
            {
                return e;
            }

            statValid = true;
            if ((st.Mode & InodeMode.TypeMask) == InodeMode.Symlink && (!isLast || followLast))
            {
                if (++links > MaxLinks || noSymlinks)
                {
                    return Errno.ELOOP;
                }

                cwdParts = null;

                current.RemoveAt(current.Count - 1);
                currentPath = null;
                if (mount.FileSystem is IMagicLinks magic && magic.TryMagicLink(relative, caller, out var jumpTo, out var file, out e))
                {
                    if (e != Errno.None)
                    {
                        return e;
                    }

                    if (noMagic)
                    {
                        return Errno.ELOOP;
                    }

                    if (scoped || noXdev)
                    {
                        // nd_jump_link: not safe for scoped lookups, nor across mounts with RESOLVE_NO_XDEV.
                        if (scoped || jumpTo is null || mounts.Find(jumpTo) != startMount)
                        {
                            return Errno.EXDEV;
                        }
                    }

                    if (jumpTo is not null)
                    {
                        currentPath = null;
                        current.Clear();
                        current.AddRange(rootParts);
                        PushComponents(current, jumpTo, reverse: false);
                        statValid = false;
                        if (isLast)
                        {
                            // The object may be gone (a deleted file): the jump still names it.
                            break;
                        }

                        continue;
                    }

                    if (!isLast)
                    {
                        return Errno.ENOTDIR;
                    }

                    magicFile = file;
                    e = file!.Stat(out st);
                    if (e != Errno.None)
                    {
                        return e;
                    }

                    current.Add(name);
                    break;
                }

                e = mount.FileSystem.ReadLink(relative, caller, out var target);
                if (e != Errno.None)
                {
                    return e;
                }

                if (target.Length == 0)
                {
                    return Errno.ENOENT;
                }

                if (target[0] == '/')
                {
                    if (beneath)
                    {
                        return Errno.EXDEV;
                    }

                    current.Clear();
                    current.AddRange(rootParts);
                    currentPath = null;
                    if (noXdev && mounts.Find(currentPath ??= Join(current, current.Count)) != startMount)
                    {
                        return Errno.EXDEV;
                    }
                }

                PushComponents(pending, target);
                if (target.EndsWith('/'))
                {
                    // A target ending in "/" must name a directory.
                    trailing |= isLast;
                    followLast |= isLast;
                }

                statValid = false;
                continue;
            }

            if (!isLast && !st.IsDirectory)
            {
                return Errno.ENOTDIR;
            }
        }

        var canonical = currentPath ?? Join(current, current.Count);
        var owner = mounts.Find(canonical);
        if (noXdev && owner != startMount)
        {
            return Errno.EXDEV;
        }

        var rel = owner.Relative(canonical);
        if (exists && !statValid && magicFile is null)
        {
            var e = owner.FileSystem.Stat(rel, caller, out st);
            if (e == Errno.ENOENT && current.Count > rootParts.Length)
            {
                exists = false;
            }
            else if (e != Errno.None)
            {
                return e;
            }
        }

        if (exists && trailing && !st.IsDirectory && !((st.Mode & InodeMode.TypeMask) == InodeMode.Symlink && !followLast))
        {
            return Errno.ENOTDIR;
        }

        result = new WalkResult
        {
            Path = rootParts.Length == 0 ? canonical : Join(current.GetRange(rootParts.Length, current.Count - rootParts.Length), current.Count - rootParts.Length),
            GlobalPath = canonical,
            Mount = owner,
            Relative = rel,
            Exists = exists,
            Stat = st,
            MagicFile = magicFile,
            TrailingSlash = trailing,
        };
        return Errno.None;
    }

    /// <summary>The mount-table components of <paramref name="cwd"/> when <paramref name="path"/> lies below it, else null.</summary>
    private static List<string>? CwdPartsIfPrefix(string[] rootParts, string cwd, string path)
    {
        if (cwd != "/" && path != cwd && !path.StartsWith(cwd + "/", StringComparison.Ordinal))
        {
            return null;
        }

        var parts = new List<string>(rootParts);
        parts.AddRange(cwd.Split('/', StringSplitOptions.RemoveEmptyEntries));
        return parts;
    }

    /// <summary>Whether <paramref name="current"/> is a proper ancestor of the directory <paramref name="of"/> names.</summary>
    private static bool IsStrictPrefix(List<string> current, List<string>? of)
    {
        if (of is null || current.Count >= of.Count)
        {
            return false;
        }

        for (var i = 0; i < current.Count; i++)
        {
            if (current[i] != of[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// may_lookup(): search permission on the directory a name is looked up in, whose lstat
    /// is <paramref name="known"/> when the walk has just read it.
    /// </summary>
    private static Errno MaySearch(MountTable mounts, Task? caller, Credentials cred, string directory, StatInfo? known)
    {
        var mount = mounts.Find(directory);
        var relative = mount.Relative(directory);
        var st = known ?? default;
        var e = known is null ? mount.FileSystem.Stat(relative, caller, out st) : Errno.None;
        return e != Errno.None ? e : !st.IsDirectory ? Errno.ENOTDIR : Permission.Check(mount.FileSystem, relative, caller, cred, st, Permission.MayExec);
    }

    private static void PushComponents(List<string> list, string path, bool reverse = true)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (reverse)
        {
            for (var i = parts.Length - 1; i >= 0; i--)
            {
                list.Add(parts[i]);
            }
        }
        else
        {
            list.AddRange(parts);
        }
    }

    /// <summary>"/" + the first <paramref name="count"/> parts joined by "/", in one allocation.</summary>
    private static string Join(List<string> parts, int count)
    {
        if (count == 0)
        {
            return "/";
        }

        var length = count;
        for (var i = 0; i < count; i++)
        {
            length += parts[i].Length;
        }

        return string.Create(length, (parts, count), static (chars, s) =>
        {
            var at = 0;
            for (var i = 0; i < s.count; i++)
            {
                chars[at++] = '/';
                s.parts[i].CopyTo(chars[at..]);
                at += s.parts[i].Length;
            }
        });
    }

    /// <summary>
    /// <paramref name="basePath"/> (canonical) + "/" + <paramref name="name"/> + the next
    /// <paramref name="chunk"/> - 1 <paramref name="pending"/> names, in one allocation.
    /// </summary>
    private static string ChildPath(string basePath, string name, List<string> pending, int chunk)
    {
        var length = (basePath == "/" ? 0 : basePath.Length) + 1 + name.Length;
        for (var i = 1; i < chunk; i++)
        {
            length += 1 + pending[^i].Length;
        }

        return string.Create(length, (basePath, name, pending, chunk), static (chars, s) =>
        {
            var at = 0;
            if (s.basePath != "/")
            {
                s.basePath.CopyTo(chars);
                at = s.basePath.Length;
            }

            chars[at++] = '/';
            s.name.CopyTo(chars[at..]);
            at += s.name.Length;
            for (var i = 1; i < s.chunk; i++)
            {
                var part = s.pending[^i];
                chars[at++] = '/';
                part.CopyTo(chars[at..]);
                at += part.Length;
            }
        });
    }
}

/// <summary>openat2(2)'s RESOLVE_* flags.</summary>
public static class ResolveFlags
{
    public const int NoXdev = 0x01, NoMagicLinks = 0x02, NoSymlinks = 0x04, Beneath = 0x08, InRoot = 0x10, Cached = 0x20;
    public const int All = NoXdev | NoMagicLinks | NoSymlinks | Beneath | InRoot | Cached;
}

/// <summary>
/// Where a walk happens: <see cref="Root"/> (a mount-table path: the process's root, or for
/// RESOLVE_BENEATH/RESOLVE_IN_ROOT the directory they name) is where absolute paths start and
/// ".." stops; a relative path starts at <see cref="Start"/> (the root when null).
/// <see cref="Cred"/> searches directories when it is not the caller's own (access(2) walks
/// with the real ids).
/// </summary>
public sealed record WalkScope(string Root, string? Start = null, int Resolve = 0, Credentials? Cred = null);
