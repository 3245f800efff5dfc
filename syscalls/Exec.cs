using System.Buffers.Binary;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>execve(2), execveat(2).</summary>
internal static unsafe class Exec
{
    /// <summary>Linux's MAX_ARG_STRINGS guard; the total size is bounded by <see cref="MaxArgBytes"/>.</summary>
    private const int MaxArgStrings = 0x7FFFFFFF;

    /// <summary>A quarter of the default 8 MiB stack, as Linux allows for argv + envp.</summary>
    private const long MaxArgBytes = 2 << 20;

    private const int AtEmptyPath = 0x1000, AtSymlinkNoFollow = 0x100, AtFdCwd = -100;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Execve, &Execve, Arg.Str, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Execveat, &Execveat, Arg.Fd, Arg.Str, Arg.Ptr, Arg.Ptr, Arg.Hex);
    }

    private static long Execve(Task t, in SyscallArgs a) => Run(t, AtFdCwd, a.A0, a.A1, a.A2, 0);

    private static long Execveat(Task t, in SyscallArgs a) => Run(t, (int)a.A0, a.A1, a.A2, a.A3, (int)a.A4);

    private static long Run(Task t, int dirfd, ulong pathAddress, ulong argvAddress, ulong envpAddress, int flags)
    {
        if ((flags & ~(AtEmptyPath | AtSymlinkNoFollow)) != 0)
        {
            return Errors.EINVAL;
        }

        var path = t.ReadString(pathAddress);
        if (path is null)
        {
            return Errors.EFAULT;
        }

        if (path.Length == 0 && (flags & AtEmptyPath) != 0)
        {
            var file = t.Group.Fds.Get(dirfd);
            if (file is null)
            {
                return Errors.EBADF;
            }

            path = file.Path;
        }
        else if (path.Length == 0)
        {
            return Errors.ENOENT;
        }
        else if (!path.StartsWith('/') && dirfd != AtFdCwd)
        {
            var dir = t.Group.Fds.Get(dirfd);
            if (dir is null)
            {
                return Errors.EBADF;
            }

            path = PathNames.Normalize(dir.Path, path);
        }

        // /proc/self/exe names the guest program (busybox re-executes itself through it).
        if (FileOpen.MagicLink(t, PathNames.Normalize(t.Group.Cwd, path), out var linkError, out _) is { } target)
        {
            if (linkError != Errno.None)
            {
                return Errors.Fail(linkError);
            }

            path = target;
        }

        long budget = MaxArgBytes;
        var argv = ReadStrings(t, argvAddress, ref budget, out var error);
        if (argv is null)
        {
            return error;
        }

        var envp = ReadStrings(t, envpAddress, ref budget, out error);
        if (envp is null)
        {
            return error;
        }

        var e = t.Kernel.Exec(t, path, argv, envp, out _);
        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    /// <summary>A NULL-terminated array of string pointers (NULL itself means empty, as Linux accepts).</summary>
    private static List<string>? ReadStrings(Task t, ulong address, ref long budget, out long error)
    {
        error = 0;
        var list = new List<string>();
        if (address == 0)
        {
            return list;
        }

        Span<byte> b = stackalloc byte[8];
        for (var i = 0; i < MaxArgStrings; i++)
        {
            if (!t.CopyIn(address + ((ulong)i * 8), b))
            {
                error = Errors.EFAULT;
                return null;
            }

            var p = BinaryPrimitives.ReadUInt64LittleEndian(b);
            if (p == 0)
            {
                return list;
            }

            var s = t.ReadString(p, (int)Math.Min(budget, int.MaxValue));
            if (s is null)
            {
                error = budget <= 0 ? Errors.Fail(Errno.E2BIG) : Errors.EFAULT;
                return null;
            }

            budget -= s.Length + 1;
            if (budget < 0)
            {
                error = Errors.Fail(Errno.E2BIG);
                return null;
            }

            list.Add(s);
        }

        error = Errors.Fail(Errno.E2BIG);
        return null;
    }
}
