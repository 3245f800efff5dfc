using System.Collections.Concurrent;
using UserModeOS.Cpu;
using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>
/// The x86-64 Linux syscall table: number -> handler and how to show its arguments.
/// Unknown numbers return ENOSYS and are reported once each by name.
/// </summary>
public sealed unsafe class SyscallTable : ISyscallDispatcher
{
    private const int Size = 512;

    private readonly Entry[] _entries = new Entry[Size];
    private readonly ConcurrentDictionary<int, bool> _reported = new();

    private struct Entry
    {
        public delegate*<Task, in SyscallArgs, long> Handler;
        public Arg[]? Args;
    }

    /// <summary>The table with every syscall this system implements.</summary>
    public static SyscallTable CreateDefault()
    {
        var table = new SyscallTable();
        FileIo.Register(table);
        FileOpen.Register(table);
        FileStat.Register(table);
        Directories.Register(table);
        Ioctl.Register(table);
        MemoryMap.Register(table);
        MemoryAdvice.Register(table);
        Process.Register(table);
        Identity.Register(table);
        Time.Register(table);
        Random.Register(table);
        SignalCalls.Register(table);
        Clone.Register(table);
        Exec.Register(table);
        Wait.Register(table);
        Futex.Register(table);
        Timers.Register(table);
        Pipes.Register(table);
        Poll.Register(table);
        Sockets.Register(table);
        Xattr.Register(table);
        Locks.Register(table);
        Splice.Register(table);
        InotifyCalls.Register(table);
        Epoll.Register(table);
        EventFdCalls.Register(table);
        return table;
    }

    public void Add(Nr nr, delegate*<Task, in SyscallArgs, long> handler, params Arg[] args)
    {
        ref var e = ref _entries[(int)nr];
        if (e.Handler != null)
        {
            throw new InvalidOperationException($"{nr} is registered twice");
        }

        e.Handler = handler;
        e.Args = args;
    }

    /// <summary>True when the number has a handler.</summary>
    public bool Implements(Nr nr) => _entries[(int)nr].Handler != null;

    public void Dispatch(Task task)
    {
        var cpu = task.Cpu;
        var nr = cpu[Reg.Rax];
        var number = (int)Math.Min(nr, int.MaxValue);
        var args = new SyscallArgs(cpu[Reg.Rdi], cpu[Reg.Rsi], cpu[Reg.Rdx], cpu[Reg.R10], cpu[Reg.R8], cpu[Reg.R9]);
        var entryArgs = nr < Size ? _entries[nr].Args : null;
        var strace = task.Kernel.Config.Strace;

        // Inputs are shown as they were before the call (execve replaces the memory they live in).
        var shown = strace ? Strace.RenderInputs(task, entryArgs, args) : null;
        long result;
        if (nr < Size && _entries[nr].Handler != null)
        {
            result = _entries[nr].Handler(task, in args);
        }
        else
        {
            if (_reported.TryAdd(number, true))
            {
                task.Kernel.Log.Warn($"unknown syscall {SyscallNames.Of(number)} ({nr}); returning ENOSYS");
            }

            result = Errors.ENOSYS;
        }

        cpu[Reg.Rax] = (ulong)result;
        if (shown is not null)
        {
            task.Kernel.Log.Trace(Strace.Finish(task, number, entryArgs, args, shown, result));
        }
    }
}
