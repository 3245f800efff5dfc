using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Iced.Intel;
using UserModeOS.Hosting;
using static Iced.Intel.AssemblerRegisters;

namespace UserModeOS.Bench;

/// <summary>
/// A syscall round trip through the whole path: guest <c>syscall</c> -> CpuState.Run exits ->
/// the task loop -> SyscallTable dispatch -> handler -> back into Run. Each invocation starts
/// a tiny static ELF (assembled here, written to a temp folder that is the box's root) in a
/// fresh <see cref="Box"/> through the embedding API, and waits for it to exit. The program
/// makes <see cref="Calls"/> calls, so Mean is ns per call including a share of process
/// start-up; "Net ns/call" takes out the cost of <see cref="EmptyProgram"/> (same program,
/// no calls).
/// </summary>
public class SyscallBenchmarks : IDisposable
{
    /// <summary>Syscalls per run.</summary>
    public const int Calls = 1_000_000;

    /// <summary>Path lookups per run (stat, open+close): each is a few host syscalls, so fewer.</summary>
    public const int FileCalls = 100_000;

    /// <summary>A host-folder file four components deep, like the libc ld.so and compilers look for.</summary>
    private const string HostFile = "/usr/lib/x86_64-linux-gnu/libc.so.6";

    private const ulong LoadAddress = 0x40_0000;
    private const int HeaderBytes = 64 + 56;
    private const int SysWrite = 1, SysOpen = 2, SysClose = 3, SysStat = 4, SysGetpid = 39, SysExitGroup = 231;
    private const int ENOENT = 2, OpenReadOnlyCloexec = 0x80000, StatBufferBytes = 256;

    private string _root = null!;

    [GlobalSetup]
    public void Setup()
    {
        _root = Directory.CreateTempSubdirectory("umos-bench-").FullName;
        WriteProgram("empty", Elf(a => { }));
        WriteProgram("getpid", Elf(a => Loop(a, Calls, SysGetpid)));

        // write(1, <a byte of the ELF header>, 1); fd 1 is the box's null stdio (/dev/null).
        WriteProgram("write1", Elf(a =>
        {
            a.mov(edi, 1);
            a.mov(esi, (uint)LoadAddress);
            a.mov(edx, 1);
            Loop(a, Calls, SysWrite);
        }));

        // The host-folder file the VFS benchmarks look up (a small stand-in for libc).
        var file = Path.Combine(_root, HostFile.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, new byte[4096]);
        WriteProgram("stat", Elf(a => PathLoop(a, HostFile, (a, fail) =>
        {
            a.sub(rsp, StatBufferBytes);
            a.mov(rsi, rsp);
            a.mov(eax, SysStat);
            a.syscall();
            a.add(rsp, StatBufferBytes);
            a.test(rax, rax);
            a.jnz(fail);
        })));
        WriteProgram("statmissing", Elf(a => PathLoop(a, HostFile + ".missing", (a, fail) =>
        {
            a.sub(rsp, StatBufferBytes);
            a.mov(rsi, rsp);
            a.mov(eax, SysStat);
            a.syscall();
            a.add(rsp, StatBufferBytes);
            a.cmp(rax, -ENOENT);
            a.jne(fail);
        })));
        WriteProgram("openclose", Elf(a => PathLoop(a, HostFile, (a, fail) =>
        {
            a.mov(esi, OpenReadOnlyCloexec);
            a.mov(eax, SysOpen);
            a.syscall();
            a.test(rax, rax);
            a.js(fail);
            a.mov(rdi, rax);
            a.mov(eax, SysClose);
            a.syscall();
            a.test(rax, rax);
            a.jnz(fail);
        })));
    }

    private void WriteProgram(string name, byte[] elf)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("boxes run on Linux hosts only");
        }

        var path = Path.Combine(_root, name);
        File.WriteAllBytes(path, elf);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        if (_root is not null && Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Box creation, ELF load, thread start, exit_group, wait: the baseline.</summary>
    [Benchmark]
    public int EmptyProgram() => RunGuest("/empty");

    /// <summary>1M x getpid.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public int Getpid() => RunGuest("/getpid");

    /// <summary>1M x write(1, buf, 1) with fd 1 open on the null device.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public int Write1ByteDevNull() => RunGuest("/write1");

    /// <summary>100k x stat of a host-folder file 4 components deep: the walk and hostfs's lstat.</summary>
    [Benchmark(OperationsPerInvoke = FileCalls)]
    public int StatHostFile() => RunGuest("/stat");

    /// <summary>100k x stat of a missing name in a host-folder directory (ENOENT), as library and include searches do.</summary>
    [Benchmark(OperationsPerInvoke = FileCalls)]
    public int StatMissingHostFile() => RunGuest("/statmissing");

    /// <summary>100k x open(O_RDONLY|O_CLOEXEC) + close of a host-folder file 4 components deep.</summary>
    [Benchmark(OperationsPerInvoke = FileCalls)]
    public int OpenCloseHostFile() => RunGuest("/openclose");

    private int RunGuest(string program)
    {
        var box = Box.Create(new BoxOptions { RootPath = _root, Log = Console.Out });
        var process = box.Start(new GuestStartInfo { Program = program });
        var status = process.WaitForExitAsync().GetAwaiter().GetResult();
        if (status != 0)
        {
            throw new InvalidOperationException($"{program} exited with status {status}");
        }

        return status;
    }

    /// <summary>ebx = n; while (ebx--) syscall(nr) with rdi/rsi/rdx as set before.</summary>
    private static void Loop(Assembler a, int n, int nr)
    {
        var loop = a.CreateLabel();
        a.mov(ebx, n);
        a.Label(ref loop);
        a.mov(eax, nr);
        a.syscall();
        a.dec(rbx);
        a.jnz(loop);
    }

    /// <summary>
    /// ebx = FileCalls; while (ebx--) { rdi = path; call; } where <paramref name="call"/> jumps to
    /// its label argument on an unexpected result, which exits with status 1. The NUL-terminated
    /// path follows the code.
    /// </summary>
    private static void PathLoop(Assembler a, string path, Action<Assembler, Label> call)
    {
        var loop = a.CreateLabel();
        var fail = a.CreateLabel();
        var done = a.CreateLabel();
        var text = a.CreateLabel();
        a.mov(ebx, FileCalls);
        a.Label(ref loop);
        a.lea(rdi, __[text]);
        call(a, fail);
        a.dec(rbx);
        a.jnz(loop);
        a.jmp(done);
        a.Label(ref fail);
        a.mov(eax, SysExitGroup);
        a.mov(edi, 1);
        a.syscall();
        a.Label(ref text);
        a.db(System.Text.Encoding.ASCII.GetBytes(path + "\0"));
        a.Label(ref done);
    }

    /// <summary>A minimal static x86-64 ELF: one R+X PT_LOAD holding the headers and the code, which ends in exit_group(0).</summary>
    private static byte[] Elf(Action<Assembler> body)
    {
        var entry = LoadAddress + HeaderBytes;
        var code = ExecutorBenchmarks.Assemble(
            a =>
            {
                body(a);
                a.mov(eax, SysExitGroup);
                a.xor(edi, edi);
                a.syscall();
            },
            entry);
        var file = new byte[HeaderBytes + code.Length];
        var h = file.AsSpan();
        h[0] = 0x7F;
        h[1] = (byte)'E';
        h[2] = (byte)'L';
        h[3] = (byte)'F';
        h[4] = 2; // ELFCLASS64
        h[5] = 1; // little-endian
        h[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], 2); // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], 62); // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(h[24..], entry);
        BinaryPrimitives.WriteUInt64LittleEndian(h[32..], 64); // e_phoff
        BinaryPrimitives.WriteUInt16LittleEndian(h[52..], 64); // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(h[54..], 56); // e_phentsize
        BinaryPrimitives.WriteUInt16LittleEndian(h[56..], 1); // e_phnum
        var p = h[64..];
        BinaryPrimitives.WriteUInt32LittleEndian(p, 1); // PT_LOAD
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 5); // PF_R | PF_X
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], 0); // p_offset
        BinaryPrimitives.WriteUInt64LittleEndian(p[16..], LoadAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(p[24..], LoadAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(p[32..], (ulong)file.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(p[40..], (ulong)file.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(p[48..], 0x1000);
        code.CopyTo(file, HeaderBytes);
        return file;
    }
}
