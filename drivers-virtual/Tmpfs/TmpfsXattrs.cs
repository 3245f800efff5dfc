using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Drivers.Tmpfs;

/// <summary>
/// tmpfs extended attributes (simple_xattrs): user.*, trusted.* and security.* names, kept
/// per inode in memory. user.* attributes exist only on regular files and directories
/// (xattr_permission()); other namespaces (system.* ACLs, unknown prefixes) are EOPNOTSUPP.
/// Callers hold the filesystem's lock.
/// </summary>
internal static class TmpfsXattrs
{
    public const int Create = 1, Replace = 2;

    private static Errno Check(TmpInode inode, string name, bool write)
    {
        if (name.StartsWith("user.", StringComparison.Ordinal))
        {
            if (inode.Type is not (InodeMode.Regular or InodeMode.Directory))
            {
                return write ? Errno.EPERM : Errno.ENODATA;
            }

            return Errno.None;
        }

        return name.StartsWith("trusted.", StringComparison.Ordinal) || name.StartsWith("security.", StringComparison.Ordinal)
            ? Errno.None
            : Errno.EOPNOTSUPP;
    }

    public static Errno Get(TmpInode inode, string name, out byte[] value)
    {
        value = Array.Empty<byte>();
        var e = Check(inode, name, write: false);
        if (e != Errno.None)
        {
            return e;
        }

        if (inode.Xattrs is null || !inode.Xattrs.TryGetValue(name, out var v))
        {
            return Errno.ENODATA;
        }

        value = v;
        return Errno.None;
    }

    public static Errno Set(TmpInode inode, string name, byte[] value, int flags)
    {
        var e = Check(inode, name, write: true);
        if (e != Errno.None)
        {
            return e;
        }

        var exists = inode.Xattrs is not null && inode.Xattrs.ContainsKey(name);
        if ((flags & Create) != 0 && exists)
        {
            return Errno.EEXIST;
        }

        if ((flags & Replace) != 0 && !exists)
        {
            return Errno.ENODATA;
        }

        inode.Xattrs ??= new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        inode.Xattrs[name] = value;
        inode.Touch(modify: false);
        return Errno.None;
    }

    public static Errno Remove(TmpInode inode, string name)
    {
        var e = Check(inode, name, write: true);
        if (e != Errno.None)
        {
            return e;
        }

        if (inode.Xattrs is null || !inode.Xattrs.Remove(name))
        {
            return Errno.ENODATA;
        }

        inode.Touch(modify: false);
        return Errno.None;
    }

    public static Errno List(TmpInode inode, out List<string> names)
    {
        names = new List<string>();
        if (inode.Xattrs is not null)
        {
            // Linux 6.x keeps them in a red-black tree walked from the greatest name down.
            var userVisible = inode.Type is InodeMode.Regular or InodeMode.Directory;
            foreach (var name in inode.Xattrs.Keys.Reverse())
            {
                if (userVisible || !name.StartsWith("user.", StringComparison.Ordinal))
                {
                    names.Add(name);
                }
            }
        }

        return Errno.None;
    }
}
