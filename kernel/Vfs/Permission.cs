namespace UserModeOS.Kernel.Vfs;

/// <summary>
/// Discretionary access control as Linux's generic_permission() and its helpers do it
/// (path_resolution(7), "Permissions"; capabilities(7) for CAP_DAC_OVERRIDE and CAP_FOWNER).
/// Every check takes the acting credentials and the inode's lstat.
/// </summary>
public static class Permission
{
    /// <summary>MAY_EXEC, MAY_WRITE, MAY_READ: the same bits as X_OK, W_OK, R_OK.</summary>
    public const int MayExec = 1, MayWrite = 2, MayRead = 4;

    private const uint AnyExecute = 0x49, GroupExecute = 0x8;

    /// <summary>
    /// generic_permission(): the owner's bits for the owner, the group's for a member, the
    /// others' for the rest; CAP_DAC_OVERRIDE grants everything except executing a
    /// non-directory that no one may execute.
    /// </summary>
    public static Errno Check(Credentials cred, in StatInfo inode, int mask)
    {
        var mode = inode.Mode;
        var bits = cred.Fsuid == inode.Uid ? mode >> 6 : cred.InGroup(inode.Gid) ? mode >> 3 : mode;
        if ((mask & ~(int)bits & 7) == 0)
        {
            return Errno.None;
        }

        if (cred.IsFsPrivileged && ((mask & MayExec) == 0 || inode.IsDirectory || (mode & AnyExecute) != 0))
        {
            return Errno.None;
        }

        return Errno.EACCES;
    }

    /// <summary>inode_permission(): the filesystem's own rule where it has one, else generic_permission().</summary>
    public static Errno Check(IFileSystem fs, string relative, Task? caller, Credentials cred, in StatInfo inode, int mask) =>
        fs.Permission(relative, caller, cred, mask) ?? Check(cred, inode, mask);

    /// <summary>inode_permission() on where a walk ended.</summary>
    public static Errno Check(in WalkResult r, Task? caller, Credentials cred, int mask) =>
        Check(r.FileSystem, r.Relative, caller, cred, r.Stat, mask);

    /// <summary>What open(2) with <paramref name="flags"/> needs (may_open()): its access mode, and writing to truncate.</summary>
    public static int ForOpen(int flags)
    {
        var mask = (flags & OpenFlags.AccessMode) switch
        {
            OpenFlags.ReadOnly => MayRead,
            OpenFlags.WriteOnly => MayWrite,
            _ => MayRead | MayWrite,
        };
        return (flags & OpenFlags.Truncate) != 0 ? mask | MayWrite : mask;
    }

    /// <summary>inode_owner_or_capable(): the filesystem uid owns the inode, or holds CAP_FOWNER.</summary>
    public static bool OwnerOrCapable(Credentials cred, in StatInfo inode) => cred.Fsuid == inode.Uid || cred.IsFsPrivileged;

    /// <summary>may_create(): a new name in a directory needs write and search permission on it.</summary>
    public static Errno MayCreate(Credentials cred, in StatInfo directory) => Check(cred, directory, MayWrite | MayExec);

    /// <summary>
    /// may_delete(): removing or renaming away a name needs write and search permission on its
    /// directory, and in a sticky directory (S_ISVTX) ownership of the file or the directory,
    /// or CAP_FOWNER (EPERM).
    /// </summary>
    public static Errno MayDelete(Credentials cred, in StatInfo directory, in StatInfo victim)
    {
        var e = MayCreate(cred, directory);
        if (e != Errno.None)
        {
            return e;
        }

        return (directory.Mode & InodeMode.Sticky) != 0 && cred.Fsuid != victim.Uid && cred.Fsuid != directory.Uid && !cred.IsFsPrivileged
            ? Errno.EPERM
            : Errno.None;
    }

    /// <summary>
    /// The fs.protected_hardlinks rule Debian enables (proc_sys_fs(5)): someone who does not own
    /// a file may link to it only when it is a regular file, not set-user-ID nor executable
    /// set-group-ID, that they may read and write (EPERM otherwise).
    /// </summary>
    public static Errno MayLink(Credentials cred, in StatInfo source)
    {
        if (OwnerOrCapable(cred, source))
        {
            return Errno.None;
        }

        var safe = source.IsRegular && (source.Mode & InodeMode.SetUid) == 0 && (source.Mode & (InodeMode.SetGid | GroupExecute)) != (InodeMode.SetGid | GroupExecute);
        return safe && Check(cred, source, MayRead | MayWrite) == Errno.None ? Errno.None : Errno.EPERM;
    }

    /// <summary>
    /// chmod(2): only the owner or CAP_FOWNER may (EPERM); the set-group-ID bit is dropped when
    /// the caller is neither in the file's group nor holds CAP_FSETID.
    /// </summary>
    public static Errno MayChmod(Credentials cred, in StatInfo inode, ref uint mode)
    {
        if (!OwnerOrCapable(cred, inode))
        {
            return Errno.EPERM;
        }

        if (!cred.IsFsPrivileged && !cred.InGroup(inode.Gid))
        {
            mode &= ~InodeMode.SetGid;
        }

        return Errno.None;
    }

    /// <summary>
    /// chown(2), chown_ok()/chgrp_ok(): with CAP_CHOWN anything goes; otherwise only the owner,
    /// who may "change" the owner to itself and the group to one they belong to (EPERM).
    /// </summary>
    public static Errno MayChown(Credentials cred, in StatInfo inode, int uid, int gid)
    {
        if (cred.IsFsPrivileged)
        {
            return Errno.None;
        }

        var owner = cred.Fsuid == inode.Uid;
        var uidOk = uid == -1 || owner && (uint)uid == inode.Uid;
        var gidOk = gid == -1 || owner && ((uint)gid == inode.Gid || cred.InGroup((uint)gid));
        return uidOk && gidOk ? Errno.None : Errno.EPERM;
    }

    /// <summary>
    /// utimensat(2), "Permissions requirements": explicit times need ownership or CAP_FOWNER
    /// (EPERM); setting the current time is also allowed to anyone who may write (EACCES).
    /// </summary>
    public static Errno MayTouch(Credentials cred, in StatInfo inode, bool explicitTimes)
    {
        if (OwnerOrCapable(cred, inode))
        {
            return Errno.None;
        }

        return explicitTimes ? Errno.EPERM : Check(cred, inode, MayWrite);
    }
}
