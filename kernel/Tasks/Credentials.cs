namespace UserModeOS.Kernel;

/// <summary>
/// A task's credentials (Linux's struct cred): real, effective, saved and filesystem user and
/// group ids and the supplementary groups. Immutable: a change builds a new one, so a reader
/// on another thread always sees a consistent set (credentials(7)).
/// </summary>
/// <remarks>
/// Capabilities follow the ids as they do for a process without file capabilities or
/// SECBIT_KEEP_CAPS (capabilities(7), "Effect of user ID changes on capabilities"): a task
/// whose effective uid is 0 holds every capability, and the filesystem capabilities
/// (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID) follow the
/// filesystem uid.
/// </remarks>
public sealed record Credentials(
    uint Uid, uint Euid, uint Suid, uint Fsuid,
    uint Gid, uint Egid, uint Sgid, uint Fsgid,
    uint[] Groups)
{
    /// <summary>The superuser with no supplementary groups: what a box starts as unless told otherwise.</summary>
    public static readonly Credentials Root = For(0, 0);

    /// <summary>A login as user <paramref name="uid"/> and group <paramref name="gid"/>: every id of each kind the same.</summary>
    public static Credentials For(uint uid, uint gid) => new(uid, uid, uid, uid, gid, gid, gid, gid, []);

    /// <summary>CAP_SETUID, CAP_SETGID, CAP_KILL, CAP_SYS_CHROOT, ...: the effective uid is 0.</summary>
    public bool IsPrivileged => Euid == 0;

    /// <summary>CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN, CAP_FSETID: the filesystem uid is 0.</summary>
    public bool IsFsPrivileged => Fsuid == 0;

    /// <summary>in_group_p(): the filesystem gid or a supplementary group.</summary>
    public bool InGroup(uint gid) => gid == Fsgid || Array.IndexOf(Groups, gid) >= 0;

    /// <summary>
    /// The credentials access(2) checks with: the real ids acting as the filesystem ids
    /// (without AT_EACCESS), and, as Linux does unless SECURE_NO_SETUID_FIXUP, no filesystem
    /// privilege when the real uid is not 0.
    /// </summary>
    public Credentials ForAccessCheck() => Fsuid == Uid && Fsgid == Gid ? this : this with { Fsuid = Uid, Fsgid = Gid };
}
