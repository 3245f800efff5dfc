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
        var cloexec = (flags & OpenFlags.CloseOnExec) != 0;
        var fds = t.Group.Fds;
        var r = fds.Add(read, cloexec);
        if (r < 0)
        {
            write.Release();
            return r;
        }

        var w = fds.Add(write, cloexec);
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
