using System.Buffers.Binary;
using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>rt_sigaction(2) and rt_sigprocmask(2): the signal state a process keeps.</summary>
internal static unsafe class SignalCalls
{
    private const int SigBlock = 0, SigUnblock = 1, SigSetMask = 2;
    private const ulong SigSetSize = 8;
    private const ulong Unblockable = (1UL << (Signals.SIGKILL - 1)) | (1UL << (Signals.SIGSTOP - 1));

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.RtSigaction, &RtSigaction, Arg.Int, Arg.Ptr, Arg.Ptr, Arg.Int);
        t.Add(Nr.RtSigprocmask, &RtSigprocmask, Arg.Int, Arg.Ptr, Arg.Ptr, Arg.Int);
    }

    private static long RtSigaction(Task t, in SyscallArgs a)
    {
        var sig = (int)a.A0;
        if (a.A3 != SigSetSize || sig < 1 || sig > Signals.Max)
        {
            return Errors.EINVAL;
        }

        if (a.A1 != 0 && (sig == Signals.SIGKILL || sig == Signals.SIGSTOP))
        {
            return Errors.EINVAL;
        }

        Span<byte> b = stackalloc byte[32];
        SigAction? wanted = null;
        if (a.A1 != 0)
        {
            if (!t.CopyIn(a.A1, b))
            {
                return Errors.EFAULT;
            }

            wanted = new SigAction(
                BinaryPrimitives.ReadUInt64LittleEndian(b),
                BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(b[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(b[24..]) & ~Unblockable);
        }

        var actions = t.Group.SignalActions;
        if (a.A2 != 0)
        {
            var old = actions[sig];
            BinaryPrimitives.WriteUInt64LittleEndian(b, old.Handler);
            BinaryPrimitives.WriteUInt64LittleEndian(b[8..], old.Flags);
            BinaryPrimitives.WriteUInt64LittleEndian(b[16..], old.Restorer);
            BinaryPrimitives.WriteUInt64LittleEndian(b[24..], old.Mask);
            if (!t.CopyOut(a.A2, b))
            {
                return Errors.EFAULT;
            }
        }

        if (wanted is { } set)
        {
            actions[sig] = set;
        }

        return 0;
    }

    private static long RtSigprocmask(Task t, in SyscallArgs a)
    {
        if (a.A3 != SigSetSize)
        {
            return Errors.EINVAL;
        }

        Span<byte> b = stackalloc byte[8];
        ulong? set = null;
        if (a.A1 != 0)
        {
            if (!t.CopyIn(a.A1, b))
            {
                return Errors.EFAULT;
            }

            set = BinaryPrimitives.ReadUInt64LittleEndian(b);
        }

        var old = t.SignalMask;
        if (a.A2 != 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b, old);
            if (!t.CopyOut(a.A2, b))
            {
                return Errors.EFAULT;
            }
        }

        if (set is { } s)
        {
            switch ((int)a.A0)
            {
                case SigBlock:
                    t.SignalMask = (old | s) & ~Unblockable;
                    break;
                case SigUnblock:
                    t.SignalMask = old & ~s;
                    break;
                case SigSetMask:
                    t.SignalMask = s & ~Unblockable;
                    break;
                default:
                    return Errors.EINVAL;
            }
        }

        return 0;
    }
}
