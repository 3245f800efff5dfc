using System.Buffers.Binary;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>
/// ioctl(2). The requests every file answers the same way (do_vfs_ioctl(): close-on-exec and
/// O_NONBLOCK) are handled here; the rest go to the open file.
/// </summary>
internal static unsafe class Ioctl
{
    private const uint Fionbio = 0x5421, Fionclex = 0x5450, Fioclex = 0x5451, Fioasync = 0x5452;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Ioctl, &DoIoctl, Arg.Fd, Arg.Hex, Arg.Hex);
    }

    private static long DoIoctl(Task t, in SyscallArgs a)
    {
        var fd = (int)a.A0;
        var request = (uint)a.A1;
        var file = t.Group.Fds.Get(fd);
        if (file is null || (file.Flags & OpenFlags.Path) != 0)
        {
            return Errors.EBADF;
        }

        switch (request)
        {
            case Fioclex or Fionclex:
                return t.Group.Fds.SetCloseOnExec(fd, request == Fioclex) ? 0 : Errors.EBADF;
            case Fionbio:
                return SetStatusFlag(t, file, a.A2, OpenFlags.NonBlock);
            case Fioasync:
                return SetAsync(t, file, a.A2);
            default:
                return file.Ioctl(t, request, a.A2);
        }
    }

    /// <summary>FIONBIO: the argument points at an int, non-zero to set the flag.</summary>
    private static long SetStatusFlag(Task t, OpenFile file, ulong address, int flag)
    {
        Span<byte> b = stackalloc byte[4];
        if (!t.CopyIn(address, b))
        {
            return Errors.EFAULT;
        }

        var on = BinaryPrimitives.ReadInt32LittleEndian(b) != 0;
        file.Flags = on ? file.Flags | flag : file.Flags & ~flag;
        return 0;
    }

    /// <summary>
    /// FIOASYNC: asking for the state the file is in succeeds; a change needs a file that can
    /// signal I/O (ttys, pipes, sockets), so the file decides (ENOTTY for the rest).
    /// </summary>
    private static long SetAsync(Task t, OpenFile file, ulong address)
    {
        Span<byte> b = stackalloc byte[4];
        if (!t.CopyIn(address, b))
        {
            return Errors.EFAULT;
        }

        var on = BinaryPrimitives.ReadInt32LittleEndian(b) != 0;
        if (on == ((file.Flags & OpenFlags.Async) != 0))
        {
            return 0;
        }

        var r = file.Ioctl(t, Fioasync, address);
        if (r == 0)
        {
            file.Flags = on ? file.Flags | OpenFlags.Async : file.Flags & ~OpenFlags.Async;
        }

        return r;
    }
}
