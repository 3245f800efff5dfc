using System.Buffers.Binary;
using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>
/// Credentials, umask and process groups. Guests run as root (uid and gid 0, no
/// supplementary groups) and cannot change identity: the set*id calls accept the ids the
/// process already has and refuse others with EPERM. Process groups and sessions follow
/// Linux: the first process of a box leads both (as a login shell would), children inherit them.
/// </summary>
internal static unsafe class Identity
{
    private const int Root = 0;
    private const uint Unchanged = uint.MaxValue;

    /// <summary>NGROUPS_MAX.</summary>
    private const int MaxGroups = 65536;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Getuid, &GetId);
        t.Add(Nr.Geteuid, &GetId);
        t.Add(Nr.Getgid, &GetId);
        t.Add(Nr.Getegid, &GetId);
        t.Add(Nr.Getresuid, &Getresid, Arg.Ptr, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Getresgid, &Getresid, Arg.Ptr, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Getgroups, &Getgroups, Arg.Int, Arg.Ptr);
        t.Add(Nr.Setgroups, &Setgroups, Arg.Int, Arg.Ptr);
        t.Add(Nr.Setuid, &SetOne, Arg.Int);
        t.Add(Nr.Setgid, &SetOne, Arg.Int);
        t.Add(Nr.Setreuid, &SetTwo, Arg.Int, Arg.Int);
        t.Add(Nr.Setregid, &SetTwo, Arg.Int, Arg.Int);
        t.Add(Nr.Setresuid, &SetThree, Arg.Int, Arg.Int, Arg.Int);
        t.Add(Nr.Setresgid, &SetThree, Arg.Int, Arg.Int, Arg.Int);
        t.Add(Nr.Setfsuid, &SetFs, Arg.Int);
        t.Add(Nr.Setfsgid, &SetFs, Arg.Int);
        t.Add(Nr.Umask, &Umask, Arg.Hex);
        t.Add(Nr.Getpgrp, &Getpgrp);
        t.Add(Nr.Getpgid, &Getpgid, Arg.Int);
        t.Add(Nr.Getsid, &Getsid, Arg.Int);
        t.Add(Nr.Setpgid, &Setpgid, Arg.Int, Arg.Int);
        t.Add(Nr.Setsid, &Setsid);
    }

    private static long GetId(Task t, in SyscallArgs a) => Root;

    /// <summary>getresuid/getresgid: real, effective and saved ids, each written out.</summary>
    private static long Getresid(Task t, in SyscallArgs a)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, Root);
        return t.CopyOut(a.A0, b) && t.CopyOut(a.A1, b) && t.CopyOut(a.A2, b) ? 0 : Errors.EFAULT;
    }

    private static long Getgroups(Task t, in SyscallArgs a) => (int)a.A0 < 0 ? Errors.EINVAL : 0;

    /// <summary>setgroups(2): only the empty list, which is what we have.</summary>
    private static long Setgroups(Task t, in SyscallArgs a)
    {
        var count = (int)a.A0;
        if (count < 0 || count > MaxGroups)
        {
            return Errors.EINVAL;
        }

        if (count == 0)
        {
            return 0;
        }

        var list = new byte[count * 4];
        if (!t.CopyIn(a.A1, list))
        {
            return Errors.EFAULT;
        }

        return Errors.Fail(Errno.EPERM);
    }

    /// <summary>An id argument: -1 is invalid for setuid/setgid, which always set.</summary>
    private static long SetOne(Task t, in SyscallArgs a) => (uint)a.A0 == Unchanged ? Errors.EINVAL : Accept((uint)a.A0);

    private static long SetTwo(Task t, in SyscallArgs a) => Accept((uint)a.A0, (uint)a.A1);

    private static long SetThree(Task t, in SyscallArgs a) => Accept((uint)a.A0, (uint)a.A1, (uint)a.A2);

    /// <summary>Succeeds when every id is -1 (unchanged) or the current one.</summary>
    private static long Accept(params uint[] ids)
    {
        foreach (var id in ids)
        {
            if (id != Unchanged && id != Root)
            {
                return Errors.Fail(Errno.EPERM);
            }
        }

        return 0;
    }

    /// <summary>setfsuid/setfsgid return the previous fs id whether or not they changed it.</summary>
    private static long SetFs(Task t, in SyscallArgs a) => Root;

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
