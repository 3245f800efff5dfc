using System.Buffers.Binary;
using UserModeOS.Cpu;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel;

/// <summary>The arguments of clone(2)/clone3(2).</summary>
public readonly record struct CloneRequest(ulong Flags, ulong Stack, ulong ParentTid, ulong ChildTid, ulong Tls, int ExitSignal);

// clone(2): new threads and processes.
public sealed partial class Kernel
{
    public const ulong CloneVm = 0x100, CloneFs = 0x200, CloneFiles = 0x400, CloneSighand = 0x800, ClonePidfd = 0x1000;
    public const ulong CloneVfork = 0x4000, CloneParent = 0x8000, CloneThread = 0x10000, CloneSysvsem = 0x40000;
    public const ulong CloneSettls = 0x80000, CloneParentSettid = 0x100000, CloneChildCleartid = 0x200000;
    public const ulong CloneDetached = 0x400000, CloneUntraced = 0x800000, CloneChildSettid = 0x1000000, CloneIo = 0x80000000;

    private const ulong Supported = CloneVm | CloneFs | CloneFiles | CloneSighand | CloneVfork | CloneParent | CloneThread |
        CloneSysvsem | CloneSettls | CloneParentSettid | CloneChildCleartid | CloneDetached | CloneUntraced | CloneChildSettid | CloneIo;

    /// <summary>clone(2): returns the new task's id, or a negated errno.</summary>
    public long Clone(Task parent, CloneRequest request)
    {
        var flags = request.Flags;
        if ((flags & ~Supported) != 0)
        {
            // Namespaces, pidfds and ptrace are not offered.
            return -(long)Errno.EINVAL;
        }

        if (((flags & CloneThread) != 0 && (flags & CloneSighand) == 0) ||
            ((flags & CloneSighand) != 0 && (flags & CloneVm) == 0) ||
            (uint)request.ExitSignal > Signals.Max)
        {
            return -(long)Errno.EINVAL;
        }

        var parentGroup = parent.Group;
        var thread = (flags & CloneThread) != 0;
        var mm = parentGroup.Mm;
        var cpu = new CpuState(mm.Memory, this);
        cpu.CopyRegistersFrom(parent.Cpu);
        cpu[Reg.Rax] = 0;
        if (request.Stack != 0)
        {
            cpu[Reg.Rsp] = request.Stack;
        }

        if ((flags & CloneSettls) != 0)
        {
            cpu.FsBase = request.Tls;
        }

        ThreadGroup? group = null;
        var tid = Register(
            id =>
            {
                if (thread)
                {
                    return new Task(parentGroup, id, cpu);
                }

                var childMm = (flags & CloneVm) != 0 ? Share(mm) : mm.Fork();
                cpu.SwitchMemory(childMm.Memory);
                var fds = (flags & CloneFiles) != 0 ? Share(parentGroup.Fds) : parentGroup.Fds.Clone();
                var fs = (flags & CloneFs) != 0 ? parentGroup.Fs : parentGroup.Fs.Clone();
                var handlers = (flags & CloneSighand) != 0 ? parentGroup.Handlers : parentGroup.Handlers.Clone();
                var adoptive = (flags & CloneParent) != 0 && parentGroup.Parent is { } grand ? grand : parentGroup;
                group = new ThreadGroup(this, id, adoptive, childMm, fds, fs, handlers)
                {
                    ExitSignal = request.ExitSignal,
                    ExePath = parentGroup.ExePath,
                    Comm = parent.Comm, // the calling thread's name (fork copies the thread)
                    Argv = parentGroup.Argv,
                    Envp = parentGroup.Envp,
                    Auxv = parentGroup.Auxv,
                    Limits = (ResourceLimit[])parentGroup.Limits.Clone(),
                    Personality = parentGroup.Personality,
                    Dumpable = parentGroup.Dumpable,
                    ProcessGroup = parentGroup.ProcessGroup,
                    Session = parentGroup.Session,
                };
                return new Task(group, id, cpu);
            },
            out var task);
        if (tid < 0 || task is null)
        {
            return tid;
        }

        task.SignalMask = parent.SignalMask;
        task.Cred = parent.Cred;
        if ((flags & CloneVm) == 0 || (flags & CloneVfork) != 0)
        {
            task.AltStackBase = parent.AltStackBase;
            task.AltStackSize = parent.AltStackSize;
            task.AltStackDisabled = parent.AltStackDisabled;
        }

        Span<byte> id32 = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(id32, tid);
        if ((flags & CloneParentSettid) != 0)
        {
            parent.CopyOut(request.ParentTid, id32);
        }

        if ((flags & CloneChildSettid) != 0)
        {
            task.CopyOut(request.ChildTid, id32);
        }

        if ((flags & CloneChildCleartid) != 0)
        {
            task.ClearChildTid = request.ChildTid;
        }

        ManualResetEventSlim? vforkDone = null;
        if (group is not null)
        {
            if ((flags & CloneVfork) != 0)
            {
                group.VforkDone = vforkDone = new ManualResetEventSlim();
            }

            group.Parent!.AddChild(group);
        }

        task.Group.AddTask(task);
        task.Start();

        // vfork(2): the parent sleeps until the child execs or exits (it shares our memory).
        if (vforkDone is not null)
        {
            while (!vforkDone.Wait(50))
            {
                if (parent.Group.IsExiting)
                {
                    break;
                }
            }
        }

        return tid;
    }

    private static Memory.AddressSpace Share(Memory.AddressSpace mm)
    {
        mm.AddUser();
        return mm;
    }

    private static FdTable Share(FdTable fds)
    {
        fds.AddUser();
        return fds;
    }
}
