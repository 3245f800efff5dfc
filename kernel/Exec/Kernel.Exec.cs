using System.Text;
using UserModeOS.Cpu;
using UserModeOS.Kernel.Exec;
using UserModeOS.Kernel.Memory;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel;

// execve(2): replace a process's program.
public sealed partial class Kernel
{
    /// <summary>How many "#!" interpreters may chain (Linux's BINPRM_MAX_RECURSION).</summary>
    private const int MaxInterpreterDepth = 4;

    private const int ShebangMax = 256;

    /// <summary>
    /// execve(2) for a task: loads the program (an ELF file or a "#!" script) into a fresh
    /// address space and points the CPU at it. Nothing changes on failure.
    /// </summary>
    public Errno Exec(Task task, string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, out string? error)
    {
        var group = task.Group;
        var guestPath = VirtualFileSystem.Join(group.Cwd, path);
        var args = new List<string>(argv);
        byte[]? bytes = null;
        StatInfo program;
        for (var depth = 0; ; depth++)
        {
            var errno = ReadExecutable(task, ref guestPath, out bytes, out program, out error);
            if (errno != Errno.None)
            {
                return errno;
            }

            if (bytes.Length < 2 || bytes[0] != '#' || bytes[1] != '!')
            {
                break;
            }

            if (depth == MaxInterpreterDepth)
            {
                error = "too many levels of #! interpreters";
                return Errno.ELOOP;
            }

            // "#!interpreter [one argument]": the script's path replaces argv[0] (execve(2), NOTES).
            var line = Encoding.UTF8.GetString(bytes, 2, Math.Min(bytes.Length - 2, ShebangMax));
            var end = line.IndexOf('\n');
            // Only spaces and tabs are trimmed, as Linux does: a CRLF script names "sh\r".
            line = (end >= 0 ? line[..end] : line).Trim(' ', '\t');
            if (line.Length == 0)
            {
                error = "empty #! line";
                return Errno.ENOEXEC;
            }

            var split = line.IndexOfAny(new[] { ' ', '\t' });
            var interpreter = split < 0 ? line : line[..split];
            var optional = split < 0 ? null : line[(split + 1)..].Trim(' ', '\t');
            var prefix = new List<string> { interpreter };
            if (!string.IsNullOrEmpty(optional))
            {
                prefix.Add(optional);
            }

            prefix.Add(path);
            args = prefix.Concat(args.Skip(1)).ToList();
            path = interpreter;
            guestPath = VirtualFileSystem.Join(group.Cwd, interpreter);
        }

        var image = ElfImage.Parse(bytes, out error);
        if (image is null)
        {
            return Errno.ENOEXEC;
        }

        ElfImage? interp = null;
        if (image.Interpreter is { } interpPath)
        {
            var interpGuestPath = VirtualFileSystem.Join("/", interpPath);
            var e = ReadExecutable(task, ref interpGuestPath, out var interpBytes, out _, out var interpError);
            interp = e == Errno.None ? ElfImage.Parse(interpBytes, out interpError) : null;
            if (interp is null)
            {
                error = $"{interpPath}: {interpError}";
                return e == Errno.None ? Errno.ENOEXEC : e;
            }
        }

        var cred = CredentialsAfterExec(task, program, guestPath);
        var layout = AddressLayout.For(Config.Aslr && (group.Personality & Personality.AddrNoRandomize) == 0);
        var mm = new AddressSpace { MmapBase = layout.MmapBase };
        var bias = image.Type == ElfImage.TypeDyn ? layout.PieBase - ProgramLoader.Span(image).Low : 0;
        var end2 = ProgramLoader.MapSegments(mm, image, bias);
        ulong interpBase = 0;
        var entry = image.Entry + bias;
        if (interp is not null)
        {
            var (low, high) = ProgramLoader.Span(interp);
            interpBase = mm.FindFree(high - low);
            ProgramLoader.MapSegments(mm, interp, interpBase - low);
            entry = interp.Entry + interpBase - low;
        }

        mm.BrkStart = mm.Brk = end2 + layout.BrkOffset;
        var sp = ProgramLoader.BuildStack(mm, new ProgramLoader.StackInfo(
            args,
            envp,
            path,
            ProgramLoader.PhdrAddress(image, bias),
            (ulong)image.Headers.Count,
            image.Entry + bias,
            interpBase,
            CpuFeatures.Query(1, 0).Edx,
            0,
            cred),
            layout.StackTop,
            out var auxvBytes);

        // The point of no return: the other threads end, the old image goes.
        EndOtherThreads(task);
        var old = group.Mm;
        group.Mm = mm;
        old.Release();
        group.Handlers = group.Handlers.Clone();
        group.Handlers.ResetForExec();

        var fds = group.Fds.Clone();
        if (group.Fds.Locks is { } locks)
        {
            // POSIX locks belong to the process and survive execve.
            fds.Locks = locks;
            locks.TransferPosixOwner(group.Fds, fds);
        }

        group.Fds.Release();
        group.Fds = fds;
        fds.CloseOnExec();

        group.ExePath = guestPath;
        group.HasExeced = true;
        task.Cred = cred;
        // A set-user-ID or set-group-ID program is not dumpable; any other exec makes the process so again.
        group.Dumpable = cred.Euid == cred.Uid && cred.Egid == cred.Gid;
        var name = PathNames.FileName(path);
        group.Comm = name.Length > 15 ? name[..15] : name;
        group.Argv = args;
        group.Auxv = auxvBytes;
        group.Envp = envp;
        task.AltStackDisabled = true;
        task.AltStackBase = task.AltStackSize = 0;
        task.ClearChildTid = 0;
        task.RobustListHead = 0;
        group.VforkDone?.Set();
        group.VforkDone = null;

        // x86-64 psABI process entry: RSP at argc, RDX = 0 (no rtld_fini for static
        // programs; glibc hands it to atexit), every other register zero.
        var cpu = task.Cpu;
        cpu.SwitchMemory(mm.Memory);
        cpu.Regs = default;
        cpu.Xmm = default;
        cpu.Rflags = 0x202;
        cpu.ResetFpu();
        cpu[Reg.Rsp] = sp;
        cpu.Rip = entry;
        error = null;
        return Errno.None;
    }

    /// <summary>de_thread: every other thread of the group exits before the new program starts.</summary>
    private static void EndOtherThreads(Task task)
    {
        foreach (var other in task.Group.Tasks())
        {
            if (other != task)
            {
                other.Kill();
            }
        }

        foreach (var other in task.Group.Tasks())
        {
            if (other != task)
            {
                other.Join();
            }
        }
    }

    /// <summary>
    /// execve(2), "Set-user-ID and set-group-ID programs": the effective (and filesystem) ids
    /// become the program file's owner and group when those bits are set, unless
    /// PR_SET_NO_NEW_PRIVS or a nosuid mount forbids it (a set-group-ID file without group
    /// execute is a mandatory-locking candidate, not set-group-ID); the saved ids then copy the
    /// effective ones.
    /// </summary>
    private Credentials CredentialsAfterExec(Task task, in StatInfo program, string guestPath)
    {
        var cred = task.Cred;
        var euid = cred.Euid;
        var egid = cred.Egid;
        var setUid = (program.Mode & InodeMode.SetUid) != 0;
        var setGid = (program.Mode & (InodeMode.SetGid | GroupExecute)) == (InodeMode.SetGid | GroupExecute);
        if ((setUid || setGid) && !task.NoNewPrivileges && Vfs.Walk(task, guestPath, WalkFlags.Follow, out var r) == Errno.None && !r.Mount.NoSuid)
        {
            euid = setUid ? program.Uid : euid;
            egid = setGid ? program.Gid : egid;
        }

        return cred with { Euid = euid, Suid = euid, Fsuid = euid, Egid = egid, Sgid = egid, Fsgid = egid };
    }

    private const uint GroupExecute = 0x8;

    /// <summary>Reads a program; <paramref name="guestPath"/> becomes its canonical path (what /proc/self/exe shows).</summary>
    private Errno ReadExecutable(Task task, ref string guestPath, out byte[] bytes, out StatInfo st, out string? error)
    {
        bytes = Array.Empty<byte>();
        var errno = Vfs.Stat(task, guestPath, follow: true, out st);
        if (errno != Errno.None)
        {
            error = errno == Errno.ENOENT ? "no such file or directory" : $"cannot open ({errno})";
            return errno;
        }

        // execve(2): EACCES for a directory, a non-regular file, or one the caller may not execute.
        errno = st.IsRegular ? Permission.Check(task.Cred, st, Permission.MayExec) : Errno.EACCES;
        if (errno != Errno.None)
        {
            error = st.IsDirectory ? "is a directory" : !st.IsRegular ? "not a regular file" : "permission denied";
            return errno;
        }

        // The kernel reads the program for the task: execute permission is all it needs, not read (open_exec()).
        var scope = new WalkScope(task.Group.Fs.Root, Cred: Credentials.Root);
        errno = Vfs.Open(task, guestPath, OpenFlags.ReadOnly, 0, out var file, out _, scope);
        if (errno != Errno.None || file is null)
        {
            error = $"cannot open ({errno})";
            return errno;
        }

        guestPath = file.Path;

        try
        {
            var buffer = new byte[st.Size];
            long done = 0;
            while (done < buffer.Length)
            {
                var n = file.ReadAt(buffer.AsSpan((int)done), done);
                if (n <= 0)
                {
                    break;
                }

                done += n;
            }

            bytes = done == buffer.Length ? buffer : buffer[..(int)done];
            error = null;
            return Errno.None;
        }
        finally
        {
            file.Release();
        }
    }
}
