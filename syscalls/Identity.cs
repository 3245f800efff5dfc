using System.Buffers.Binary;
using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>
/// Credentials, umask and process groups. The set*id calls follow credentials(7) and their
/// man pages: root (CAP_SETUID/CAP_SETGID, an effective uid of 0) sets any ids, others only
/// move among the real, effective and saved ids they already have (EPERM otherwise); the
/// filesystem id follows the effective one. Process groups and sessions follow Linux: the
/// first process of a box leads both (as a login shell would), children inherit them.
/// </summary>
internal static unsafe class Identity
{
    private const uint Unchanged = uint.MaxValue;

    /// <summary>NGROUPS_MAX.</summary>
    private const int MaxGroups = 65536;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Getuid, &Getuid);
        t.Add(Nr.Geteuid, &Geteuid);
        t.Add(Nr.Getgid, &Getgid);
        t.Add(Nr.Getegid, &Getegid);
        t.Add(Nr.Getresuid, &Getresuid, Arg.Ptr, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Getresgid, &Getresgid, Arg.Ptr, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Getgroups, &Getgroups, Arg.Int, Arg.Ptr);
        t.Add(Nr.Setgroups, &Setgroups, Arg.Int, Arg.Ptr);
        t.Add(Nr.Setuid, &Setuid, Arg.Int);
        t.Add(Nr.Setgid, &Setgid, Arg.Int);
        t.Add(Nr.Setreuid, &Setreuid, Arg.Int, Arg.Int);
        t.Add(Nr.Setregid, &Setregid, Arg.Int, Arg.Int);
        t.Add(Nr.Setresuid, &Setresuid, Arg.Int, Arg.Int, Arg.Int);
        t.Add(Nr.Setresgid, &Setresgid, Arg.Int, Arg.Int, Arg.Int);
        t.Add(Nr.Setfsuid, &Setfsuid, Arg.Int);
        t.Add(Nr.Setfsgid, &Setfsgid, Arg.Int);
        t.Add(Nr.Umask, &Umask, Arg.Hex);
        t.Add(Nr.Getpgrp, &Getpgrp);
        t.Add(Nr.Getpgid, &Getpgid, Arg.Int);
        t.Add(Nr.Getsid, &Getsid, Arg.Int);
        t.Add(Nr.Setpgid, &Setpgid, Arg.Int, Arg.Int);
        t.Add(Nr.Setsid, &Setsid);
    }

    private static long Getuid(Task t, in SyscallArgs a) => t.Cred.Uid;

    private static long Geteuid(Task t, in SyscallArgs a) => t.Cred.Euid;

    private static long Getgid(Task t, in SyscallArgs a) => t.Cred.Gid;

    private static long Getegid(Task t, in SyscallArgs a) => t.Cred.Egid;

    private static long Getresuid(Task t, in SyscallArgs a) => Getresid(t, a, Ids.Users(t.Cred));

    private static long Getresgid(Task t, in SyscallArgs a) => Getresid(t, a, Ids.Groups(t.Cred));

    /// <summary>getresuid/getresgid: real, effective and saved ids, each written out.</summary>
    private static long Getresid(Task t, in SyscallArgs a, Ids ids)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, ids.Real);
        if (!t.CopyOut(a.A0, b))
        {
            return Errors.EFAULT;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(b, ids.Effective);
        if (!t.CopyOut(a.A1, b))
        {
            return Errors.EFAULT;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(b, ids.Saved);
        return t.CopyOut(a.A2, b) ? 0 : Errors.EFAULT;
    }

    /// <summary>getgroups(2): the count when <c>size</c> is 0, EINVAL when the list does not fit.</summary>
    private static long Getgroups(Task t, in SyscallArgs a)
    {
        var size = (int)a.A0;
        var groups = t.Cred.Groups;
        if (size < 0)
        {
            return Errors.EINVAL;
        }

        if (size == 0)
        {
            return groups.Length;
        }

        if (size < groups.Length)
        {
            return Errors.EINVAL;
        }

        var list = new byte[groups.Length * 4];
        for (var i = 0; i < groups.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(list.AsSpan(i * 4), groups[i]);
        }

        return t.CopyOut(a.A1, list) ? groups.Length : Errors.EFAULT;
    }

    /// <summary>setgroups(2): root only (CAP_SETGID); the list is kept sorted, as Linux keeps it.</summary>
    private static long Setgroups(Task t, in SyscallArgs a)
    {
        var count = (int)a.A0;
        if (count < 0 || count > MaxGroups)
        {
            return Errors.EINVAL;
        }

        var list = new byte[count * 4];
        if (!t.CopyIn(a.A1, list))
        {
            return Errors.EFAULT;
        }

        if (!t.Cred.IsPrivileged)
        {
            return Errors.Fail(Errno.EPERM);
        }

        var groups = new uint[count];
        for (var i = 0; i < count; i++)
        {
            groups[i] = BinaryPrimitives.ReadUInt32LittleEndian(list.AsSpan(i * 4));
        }

        Array.Sort(groups);
        t.Cred = t.Cred with { Groups = groups };
        return 0;
    }

    private static long Setuid(Task t, in SyscallArgs a) => SetOne(t, (uint)a.A0, group: false);

    private static long Setgid(Task t, in SyscallArgs a) => SetOne(t, (uint)a.A0, group: true);

    private static long Setreuid(Task t, in SyscallArgs a) => SetTwo(t, (uint)a.A0, (uint)a.A1, group: false);

    private static long Setregid(Task t, in SyscallArgs a) => SetTwo(t, (uint)a.A0, (uint)a.A1, group: true);

    private static long Setresuid(Task t, in SyscallArgs a) => SetThree(t, (uint)a.A0, (uint)a.A1, (uint)a.A2, group: false);

    private static long Setresgid(Task t, in SyscallArgs a) => SetThree(t, (uint)a.A0, (uint)a.A1, (uint)a.A2, group: true);

    private static long Setfsuid(Task t, in SyscallArgs a) => SetFs(t, (uint)a.A0, group: false);

    private static long Setfsgid(Task t, in SyscallArgs a) => SetFs(t, (uint)a.A0, group: true);

    /// <summary>
    /// setuid(2)/setgid(2): root sets all four ids; others may set the effective (and
    /// filesystem) id to the real or saved one. -1 is EINVAL.
    /// </summary>
    private static long SetOne(Task t, uint id, bool group)
    {
        if (id == Unchanged)
        {
            return Errors.EINVAL;
        }

        var ids = Ids.Of(t.Cred, group);
        if (t.Cred.IsPrivileged)
        {
            return Commit(t, new Ids(id, id, id, id), group);
        }

        return id == ids.Real || id == ids.Saved ? Commit(t, ids with { Effective = id, Fs = id }, group) : Errors.Fail(Errno.EPERM);
    }

    /// <summary>
    /// setreuid(2)/setregid(2): others may set the real id to the real or effective one and the
    /// effective id to any of the three; the saved id becomes the new effective id when the real
    /// id is set or the effective id is set to something other than the old real id.
    /// </summary>
    private static long SetTwo(Task t, uint real, uint effective, bool group)
    {
        var ids = Ids.Of(t.Cred, group);
        if (!t.Cred.IsPrivileged &&
            (real != Unchanged && real != ids.Real && real != ids.Effective ||
             effective != Unchanged && !ids.Holds(effective)))
        {
            return Errors.Fail(Errno.EPERM);
        }

        var newReal = real == Unchanged ? ids.Real : real;
        var newEffective = effective == Unchanged ? ids.Effective : effective;
        var newSaved = real != Unchanged || effective != Unchanged && effective != ids.Real ? newEffective : ids.Saved;
        return Commit(t, new Ids(newReal, newEffective, newSaved, newEffective), group);
    }

    /// <summary>setresuid(2)/setresgid(2): others may set each id to any of the three they have.</summary>
    private static long SetThree(Task t, uint real, uint effective, uint saved, bool group)
    {
        var ids = Ids.Of(t.Cred, group);
        if (!t.Cred.IsPrivileged && !(Allowed(real) && Allowed(effective) && Allowed(saved)))
        {
            return Errors.Fail(Errno.EPERM);
        }

        var newEffective = effective == Unchanged ? ids.Effective : effective;
        return Commit(t, new Ids(real == Unchanged ? ids.Real : real, newEffective, saved == Unchanged ? ids.Saved : saved, newEffective), group);

        bool Allowed(uint id) => id == Unchanged || ids.Holds(id);
    }

    /// <summary>
    /// setfsuid(2)/setfsgid(2): returns the previous filesystem id whether or not it changed;
    /// others may set it only to one of their ids, and -1 only asks.
    /// </summary>
    private static long SetFs(Task t, uint id, bool group)
    {
        var ids = Ids.Of(t.Cred, group);
        if (id != Unchanged && id != ids.Fs && (t.Cred.IsPrivileged || ids.Holds(id)))
        {
            Commit(t, ids with { Fs = id }, group);
        }

        return ids.Fs;
    }

    /// <summary>
    /// commit_creds(): a process whose effective or filesystem ids change stops being dumpable
    /// (PR_SET_DUMPABLE in prctl(2); its /proc/[pid] files then belong to root).
    /// </summary>
    private static long Commit(Task t, Ids ids, bool group)
    {
        var old = t.Cred;
        t.Cred = group
            ? old with { Gid = ids.Real, Egid = ids.Effective, Sgid = ids.Saved, Fsgid = ids.Fs }
            : old with { Uid = ids.Real, Euid = ids.Effective, Suid = ids.Saved, Fsuid = ids.Fs };
        if (t.Cred.Euid != old.Euid || t.Cred.Egid != old.Egid || t.Cred.Fsuid != old.Fsuid || t.Cred.Fsgid != old.Fsgid)
        {
            t.Group.Dumpable = false;
        }

        return 0;
    }

    /// <summary>One kind of id (user or group) of a task: real, effective, saved and filesystem.</summary>
    private readonly record struct Ids(uint Real, uint Effective, uint Saved, uint Fs)
    {
        public static Ids Users(Credentials c) => new(c.Uid, c.Euid, c.Suid, c.Fsuid);

        public static Ids Groups(Credentials c) => new(c.Gid, c.Egid, c.Sgid, c.Fsgid);

        public static Ids Of(Credentials c, bool group) => group ? Groups(c) : Users(c);

        /// <summary>Whether <paramref name="id"/> is the real, effective or saved id.</summary>
        public bool Holds(uint id) => id == Real || id == Effective || id == Saved;
    }

    /// <summary>umask(2): sets the permission bits and returns the old mask.</summary>
    private static long Umask(Task t, in SyscallArgs a)
    {
        var old = t.Group.Umask;
        t.Group.Umask = (uint)a.A0 & 0x1FF;
        return old;
    }

    private static long Getpgrp(Task t, in SyscallArgs a) => t.Group.ProcessGroup;

    private static long Getpgid(Task t, in SyscallArgs a) => Find(t, (int)a.A0) is { } p ? p.ProcessGroup : Errors.Fail(Errno.ESRCH);

    private static long Getsid(Task t, in SyscallArgs a) => Find(t, (int)a.A0) is { } p ? p.Session : Errors.Fail(Errno.ESRCH);

    /// <summary>The process a pid argument names: 0 is the caller.</summary>
    private static ThreadGroup? Find(Task t, int pid) =>
        pid == 0 || pid == t.Group.Pid ? t.Group : pid < 0 ? null : t.Kernel.FindProcess(pid);

    /// <summary>
    /// setpgid(2): the caller or one of its children, in the caller's session and not a
    /// session leader, joins a group of that session or starts its own (pgid 0 or its pid).
    /// </summary>
    private static long Setpgid(Task t, in SyscallArgs a)
    {
        var pid = (int)a.A0;
        var pgid = (int)a.A1;
        if (pgid < 0)
        {
            return Errors.EINVAL;
        }

        var me = t.Group;
        var target = pid == 0 || pid == me.Pid ? me : me.Children().Find(c => c.Pid == pid);
        if (target is null)
        {
            return Errors.Fail(Errno.ESRCH);
        }

        if (target.Session != me.Session || target.Session == target.Pid)
        {
            return Errors.Fail(Errno.EPERM);
        }

        if (target != me && target.HasExeced)
        {
            return Errors.Fail(Errno.EACCES);
        }

        if (pgid == 0)
        {
            pgid = target.Pid;
        }

        if (pgid != target.Pid && !GroupExists(me, pgid))
        {
            return Errors.Fail(Errno.EPERM);
        }

        target.ProcessGroup = pgid;
        return 0;
    }

    /// <summary>Whether a process group exists in the caller's session.</summary>
    private static bool GroupExists(ThreadGroup me, int pgid)
    {
        bool InGroup(ThreadGroup? p) => p is not null && p.ProcessGroup == pgid && p.Session == me.Session && !p.IsExiting;
        return me.Kernel.Processes().Exists(InGroup);
    }

    /// <summary>setsid(2): a new session and group led by the caller, unless it already leads a group.</summary>
    private static long Setsid(Task t, in SyscallArgs a)
    {
        var me = t.Group;
        if (me.ProcessGroup == me.Pid || me.Children().Exists(c => c.ProcessGroup == me.Pid))
        {
            return Errors.Fail(Errno.EPERM);
        }

        me.Session = me.Pid;
        me.ProcessGroup = me.Pid;
        return me.Pid;
    }
}
