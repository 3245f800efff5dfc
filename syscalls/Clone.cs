using System.Buffers.Binary;
using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>clone(2), clone3(2), fork(2), vfork(2).</summary>
internal static unsafe class Clone
{
    private const ulong CsignalMask = 0xFF;
    private const int Clone3MinSize = 64;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Clone, &CloneCall, Arg.Hex, Arg.Ptr, Arg.Ptr, Arg.Ptr, Arg.Hex);
        t.Add(Nr.Clone3, &Clone3, Arg.Ptr, Arg.Int);
        t.Add(Nr.Fork, &Fork);
        t.Add(Nr.Vfork, &Vfork);
    }

    // x86-64 argument order: flags, stack, parent_tid, child_tid, tls.
    private static long CloneCall(Task t, in SyscallArgs a) =>
        t.Kernel.Clone(t, new CloneRequest(a.A0 & ~CsignalMask, a.A1, a.A2, a.A3, a.A4, (int)(a.A0 & CsignalMask)));

    private static long Fork(Task t, in SyscallArgs a) =>
        t.Kernel.Clone(t, new CloneRequest(0, 0, 0, 0, 0, Signals.SIGCHLD));

    private static long Vfork(Task t, in SyscallArgs a) =>
        t.Kernel.Clone(t, new CloneRequest(Kernel.Kernel.CloneVm | Kernel.Kernel.CloneVfork, 0, 0, 0, 0, Signals.SIGCHLD));

    /// <summary>clone3(2): struct clone_args; the stack is given as its lowest address and size.</summary>
    private static long Clone3(Task t, in SyscallArgs a)
    {
        var size = a.A1;
        if (size < Clone3MinSize || size > 4096)
        {
            return Errors.EINVAL;
        }

        var b = new byte[size];
        if (!t.CopyIn(a.A0, b))
        {
            return Errors.EFAULT;
        }

        ulong Field(int i) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(i * 8));
        var flags = Field(0);
        var exitSignal = Field(4);
        var stack = Field(5);
        var stackSize = Field(6);

        // set_tid and cgroup (fields 8-10) are for namespaces we do not offer.
        if (size >= 88 && (Field(8) != 0 || Field(9) != 0) || (flags & CsignalMask) != 0 || exitSignal > Signals.Max)
        {
            return Errors.EINVAL;
        }

        if ((stack == 0) != (stackSize == 0))
        {
            return Errors.EINVAL;
        }

        return t.Kernel.Clone(t, new CloneRequest(flags, stack == 0 ? 0 : stack + stackSize, Field(3), Field(2), Field(7), (int)exitSignal));
    }
}
