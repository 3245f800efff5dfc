using System.Buffers.Binary;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Ipc;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>pipe(2), pipe2(2).</summary>
internal static unsafe class Pipes
{
    private const int O_DIRECT = OpenFlags.Direct;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Pipe, &PipeCall, Arg.Ptr);
        t.Add(Nr.Pipe2, &Pipe2, Arg.Ptr, Arg.Hex);
    }

    private static long PipeCall(Task t, in SyscallArgs a) => Create(t, a.A0, 0);

    private static long Pipe2(Task t, in SyscallArgs a) => Create(t, a.A0, (int)a.A1);

    private static long Create(Task t, ulong address, int flags)
    {
        if ((flags & ~(OpenFlags.CloseOnExec | OpenFlags.NonBlock | O_DIRECT)) != 0)
        {
            return Errors.EINVAL;
        }

        var (read, write) = Pipe.Create(flags & OpenFlags.NonBlock, t.Cred);
        return InstallPair(t, read, write, (flags & OpenFlags.CloseOnExec) != 0, address);
    }

    /// <summary>
    /// Installs two new open files at the lowest free fds and stores the fds as int[2] at
    /// <paramref name="address"/> (pipe(2), socketpair(2)); on any failure neither stays open.
    /// </summary>
    internal static long InstallPair(Task t, OpenFile first, OpenFile second, bool cloexec, ulong address)
    {
        var fds = t.Group.Fds;
        var r = fds.Add(first, cloexec);
        if (r < 0)
        {
            second.Release();
            return r;
        }

        var w = fds.Add(second, cloexec);
        if (w < 0)
        {
            fds.Close(r);
            return w;
        }

        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(b, r);
        BinaryPrimitives.WriteInt32LittleEndian(b[4..], w);
        if (!t.CopyOut(address, b))
        {
            fds.Close(r);
            fds.Close(w);
            return Errors.EFAULT;
        }

        return 0;
    }
}
