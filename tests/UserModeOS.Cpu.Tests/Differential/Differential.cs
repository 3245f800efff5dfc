using System.Buffers.Binary;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Memory;

namespace UserModeOS.Cpu.Tests.Differential;

/// <summary>
/// Runs machine code on the host CPU and on our executor and compares the results: the host
/// is the oracle. A batch of cases becomes one small static executable.
/// </summary>
/// <remarks>
/// Inside <c>UserModeOS.Cpu.Tests</c> the name <c>Differential</c> means this namespace, so
/// import the class with <c>using static UserModeOS.Cpu.Tests.Differential.Differential;</c> and
/// call <c>AssertSameAsHost(cases)</c>. <see cref="CaseKit"/> has operand values, register
/// helpers and memory addressing forms for data-driven cases.
/// </remarks>
public static class Differential
{
    /// <summary>
    /// The scratch page (4 KiB, read-write) every case may use. It is below 2 GiB, so it can be
    /// addressed absolutely or RIP-relative; the pages on either side are never mapped.
    /// </summary>
    public const ulong ScratchAddress = 0x6000_0000;

    /// <summary>Arithmetic flags: CF|PF|AF|ZF|SF|OF.</summary>
    public const ulong ArithmeticFlags = 0x8D5;

    private const int MaxReportedCases = 20;
    private static readonly TimeSpan NativeTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Runs all cases natively (one process for the batch) and under <see cref="CpuState"/>,
    /// and fails with a readable diff on any difference in GPRs, masked RFLAGS, XMM0-15, MXCSR
    /// or the scratch page.
    /// </summary>
    public static void AssertSameAsHost(IEnumerable<DiffCase> cases)
    {
        var report = Compare(cases);
        if (report is not null)
        {
            Assert.Fail(report);
        }
    }

    /// <summary>Runs the cases both ways; returns null when every case matches, else the failure report.</summary>
    public static string? Compare(IEnumerable<DiffCase> cases)
    {
        var list = cases.ToList();
        if (list.Count == 0)
        {
            return null;
        }

        var program = TestProgram.Build(list);
        var native = RunNative(program.Elf, out var nativeExit);
        var nativeStates = ParseNative(native, list.Count);

        var failures = new StringBuilder();
        var failed = 0;
        using (var emulator = new Emulator(program))
        {
            for (var i = 0; i < list.Count; i++)
            {
                var c = list[i];
                var code = program.Cases[i];
                var emulated = emulator.Run(c, code);
                string? diff;
                if (i >= nativeStates.Count)
                {
                    diff = $"  the native run died in this case ({DescribeExit(nativeExit)}); faulting code belongs in RunFaulting\n";
                }
                else
                {
                    diff = Diff(c, nativeStates[i], emulated, emulator, code);
                }

                if (diff is null)
                {
                    continue;
                }

                if (++failed <= MaxReportedCases)
                {
                    failures.Append($"case #{i} '{c.Name}':\n");
                    failures.Append(Disassemble(emulator.Memory, code));
                    failures.Append(diff);
                }

                if (i >= nativeStates.Count)
                {
                    failed += list.Count - i - 1;
                    break;
                }
            }
        }

        if (failed == 0 && nativeStates.Count == list.Count && nativeExit != 0)
        {
            return $"native run exited with {DescribeExit(nativeExit)} after all cases";
        }

        if (failed == 0)
        {
            return null;
        }

        var head = $"{failed} of {list.Count} cases differ from the host CPU";
        if (failed > MaxReportedCases)
        {
            head += $" (first {MaxReportedCases} shown)";
        }

        return head + ":\n" + failures;
    }

    /// <summary>
    /// Runs one case that is expected to fault: natively, returns the signal that killed the
    /// process (0 if it exited normally); emulated, the exit reason and RIP as an offset from the
    /// start of the case's code. If the emulated case runs to its end, the reason is
    /// <see cref="ExitReason.None"/> and the offset is the length of the code.
    /// </summary>
    public static (int NativeSignal, ExitReason Emulated, ulong EmulatedRipOffset) RunFaulting(DiffCase c)
    {
        var program = TestProgram.Build([c]);
        RunNative(program.Elf, out var nativeExit);
        var signal = nativeExit > 128 ? nativeExit - 128 : 0;

        using var emulator = new Emulator(program);
        var code = program.Cases[0];
        var state = emulator.Run(c, code);
        var reason = state.Finished ? ExitReason.None : state.Exit;
        return (signal, reason, state.Rip - code.Start);
    }

    /// <summary>Runs one case on the executor only: for checking state the host cannot show, like the flags at a fault.</summary>
    internal static CpuSnapshot RunEmulated(DiffCase c)
    {
        var program = TestProgram.Build([c]);
        using var emulator = new Emulator(program);
        return emulator.Run(c, program.Cases[0]);
    }

    /// <summary>
    /// Runs the cases natively (one process) and on the executor and returns both end states,
    /// for results that are compared within a tolerance rather than bit for bit (estimates
    /// whose exact bits differ between CPU vendors). Fails if the native run dies; an emulated
    /// case that stops early comes back with <see cref="CpuSnapshot.Finished"/> false.
    /// </summary>
    internal static List<(CpuSnapshot Native, CpuSnapshot Emulated)> RunBoth(IEnumerable<DiffCase> cases)
    {
        var list = cases.ToList();
        var results = new List<(CpuSnapshot, CpuSnapshot)>(list.Count);
        if (list.Count == 0)
        {
            return results;
        }

        var program = TestProgram.Build(list);
        var native = RunNative(program.Elf, out var nativeExit);
        var nativeStates = ParseNative(native, list.Count);
        if (nativeStates.Count < list.Count || nativeExit != 0)
        {
            Assert.Fail($"the native run ended with {DescribeExit(nativeExit)} after {nativeStates.Count} of {list.Count} cases");
        }

        using var emulator = new Emulator(program);
        for (var i = 0; i < list.Count; i++)
        {
            results.Add((nativeStates[i], emulator.Run(list[i], program.Cases[i])));
        }

        return results;
    }

    private static string DescribeExit(int exitCode) =>
        exitCode > 128 ? $"signal {exitCode - 128}" : $"exit status {exitCode}";

    private static byte[] RunNative(byte[] elf, out int exitCode)
    {
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.OSArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            Assert.Ignore("differential tests need an x86-64 Linux host to be the oracle");
            throw new PlatformNotSupportedException();
        }

        var path = Path.Combine(Path.GetTempPath(), $"umos-diff-{Environment.ProcessId}-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, elf);
        try
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using var process = Start(path);
            using var output = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
            if (!copy.Wait(NativeTimeout))
            {
                process.Kill();
                throw new TimeoutException("the native test program did not finish (a case loops forever?)");
            }

            process.WaitForExit();
            exitCode = process.ExitCode;
            return output.ToArray();
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Process Start(string path)
    {
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, UseShellExecute = false };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return Process.Start(info)!;
            }
            catch (Win32Exception e) when (e.NativeErrorCode == 26 && attempt < 20)
            {
                // ETXTBSY: another thread's fork briefly inherited our write handle to the file.
                Thread.Sleep(10);
            }
        }
    }

    private static List<CpuSnapshot> ParseNative(byte[] output, int count)
    {
        var states = new List<CpuSnapshot>(count);
        var at = 0;
        while (states.Count < count && at + TestProgram.OutSize <= output.Length)
        {
            var r = output.AsSpan(at, TestProgram.OutSize);
            var s = new CpuSnapshot
            {
                Finished = true,
                Rflags = BinaryPrimitives.ReadUInt64LittleEndian(r[TestProgram.OutFlags..]),
                Mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(r[TestProgram.OutMxcsr..]),
            };
            for (var g = 0; g < 16; g++)
            {
                s.Gpr[g] = BinaryPrimitives.ReadUInt64LittleEndian(r[(TestProgram.OutGpr + (8 * g))..]);
            }

            for (var x = 0; x < 16; x++)
            {
                s.Xmm[x] = BinaryPrimitives.ReadUInt128LittleEndian(r[(TestProgram.OutXmm + (16 * x))..]);
            }

            r.Slice(TestProgram.OutFx, TestProgram.FxSize).CopyTo(s.Fx);

            at += TestProgram.OutSize;
            if (BinaryPrimitives.ReadUInt32LittleEndian(r[TestProgram.OutScratchChanged..]) != 0)
            {
                if (at + TestProgram.PageSize > output.Length)
                {
                    break;
                }

                s.Scratch = output.AsSpan(at, TestProgram.PageSize).ToArray();
                at += TestProgram.PageSize;
            }

            states.Add(s);
        }

        return states;
    }

    private static string? Diff(DiffCase c, CpuSnapshot native, CpuSnapshot emulated, Emulator emulator, CaseCode code)
    {
        var sb = new StringBuilder();
        if (!emulated.Finished)
        {
            sb.Append($"  emulated run stopped early: {emulated.Exit} at +0x{emulated.Rip - code.Start:X}");
            if (emulated.Exit == ExitReason.PageFault)
            {
                sb.Append($" ({emulated.FaultAccess} of 0x{emulated.FaultAddress:X})");
            }

            sb.Append('\n');
            foreach (var warning in emulator.TakeWarnings())
            {
                sb.Append($"  executor: {warning}\n");
            }

            return sb.ToString();
        }

        for (var g = 0; g < 16; g++)
        {
            if (native.Gpr[g] != emulated.Gpr[g])
            {
                var initial = g == 4 ? code.StackTop : c.Gpr[g];
                sb.Append($"  {((Reg)g).ToString().ToUpperInvariant(),-3}: native 0x{native.Gpr[g]:X16}, emulated 0x{emulated.Gpr[g]:X16} (initial 0x{initial:X16})\n");
            }
        }

        var flagDiff = (native.Rflags ^ emulated.Rflags) & c.FlagsMask;
        if (flagDiff != 0)
        {
            sb.Append($"  RFLAGS: native 0x{native.Rflags & c.FlagsMask:X} {FlagNames(native.Rflags & c.FlagsMask)}, " +
                $"emulated 0x{emulated.Rflags & c.FlagsMask:X} {FlagNames(emulated.Rflags & c.FlagsMask)} " +
                $"(differ in {FlagNames(flagDiff)}; mask 0x{c.FlagsMask:X}, initial 0x{c.Flags:X} {FlagNames(c.Flags)})\n");
        }

        for (var x = 0; x < 16; x++)
        {
            if (native.Xmm[x] != emulated.Xmm[x])
            {
                sb.Append($"  XMM{x,-2}: native 0x{native.Xmm[x]:X32}, emulated 0x{emulated.Xmm[x]:X32} (initial 0x{c.Xmm[x]:X32})\n");
            }
        }

        if (native.Mxcsr != emulated.Mxcsr)
        {
            sb.Append($"  MXCSR: native 0x{native.Mxcsr:X8}, emulated 0x{emulated.Mxcsr:X8} (initial 0x{c.Mxcsr:X8})\n");
        }

        if (c.CompareX87)
        {
            DiffX87(sb, native.Fx, emulated.Fx);
        }

        // A null scratch in a snapshot means "unchanged from the case's initial page".
        var nativeScratch = native.Scratch ?? InitialScratch(c);
        var emulatedScratch = emulated.Scratch ?? InitialScratch(c);
        if (!nativeScratch.AsSpan().SequenceEqual(emulatedScratch))
        {
            var shown = 0;
            for (var b = 0; b < TestProgram.PageSize && shown < 16; b++)
            {
                if (nativeScratch[b] != emulatedScratch[b])
                {
                    sb.Append($"  scratch[0x{b:X3}]: native 0x{nativeScratch[b]:X2}, emulated 0x{emulatedScratch[b]:X2} (initial 0x{InitialScratch(c)[b]:X2})\n");
                    shown++;
                }
            }
        }

        return sb.Length == 0 ? null : sb.ToString();
    }

    /// <summary>Compares the x87 part of two FXSAVE images (bytes 0-23 and ST0-7; MXCSR is compared on its own).</summary>
    private static void DiffX87(StringBuilder sb, byte[] native, byte[] emulated)
    {
        static string Field(byte[] fx, int at, int size) => size switch
        {
            1 => $"0x{fx[at]:X2}",
            2 => $"0x{BinaryPrimitives.ReadUInt16LittleEndian(fx.AsSpan(at)):X4}",
            _ => $"0x{BinaryPrimitives.ReadUInt64LittleEndian(fx.AsSpan(at)):X16}",
        };

        foreach (var (name, at, size) in new[] { ("FCW", 0, 2), ("FSW", 2, 2), ("FTW", 4, 1), ("FOP", 6, 2), ("FIP", 8, 8), ("FDP", 16, 8) })
        {
            if (!native.AsSpan(at, size).SequenceEqual(emulated.AsSpan(at, size)))
            {
                sb.Append($"  {name}: native {Field(native, at, size)}, emulated {Field(emulated, at, size)}\n");
            }
        }

        for (var i = 0; i < 8; i++)
        {
            var at = 32 + (16 * i);
            if (!native.AsSpan(at, 16).SequenceEqual(emulated.AsSpan(at, 16)))
            {
                sb.Append($"  ST{i}: native {St(native, at)}, emulated {St(emulated, at)}\n");
            }
        }

        static string St(byte[] fx, int at) =>
            $"{BinaryPrimitives.ReadUInt16LittleEndian(fx.AsSpan(at + 8)):X4}:{BinaryPrimitives.ReadUInt64LittleEndian(fx.AsSpan(at)):X16}" +
            (fx.AsSpan(at + 10, 6).ContainsAnyExcept((byte)0) ? $" (+{Convert.ToHexString(fx, at + 10, 6)})" : "");
    }

    internal static byte[] InitialScratch(DiffCase c)
    {
        var page = new byte[TestProgram.PageSize];
        c.Scratch?.CopyTo(page, 0);
        return page;
    }

    private static string FlagNames(ulong flags)
    {
        var names = new List<string>();
        foreach (var (bit, name) in new[] { (CpuState.CF, "CF"), (CpuState.PF, "PF"), (CpuState.AF, "AF"), (CpuState.ZF, "ZF"), (CpuState.SF, "SF"), (CpuState.DF, "DF"), (CpuState.OF, "OF") })
        {
            if ((flags & bit) != 0)
            {
                names.Add(name);
            }
        }

        return "[" + string.Join(' ', names) + "]";
    }

    private static string Disassemble(GuestMemory memory, CaseCode code)
    {
        var bytes = new byte[code.End - code.Start];
        if (!memory.TryRead(code.Start, bytes))
        {
            return "  (code unreadable)\n";
        }

        var sb = new StringBuilder();
        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(bytes), code.Start);
        var formatter = new IntelFormatter();
        var text = new StringOutput();
        while (decoder.IP < code.End)
        {
            var offset = decoder.IP - code.Start;
            decoder.Decode(out var insn);
            formatter.Format(insn, text);
            var raw = Convert.ToHexString(bytes, (int)offset, insn.Length);
            sb.Append($"    +0x{offset:X2}  {raw,-30} {text.ToStringAndReset()}\n");
        }

        return sb.ToString();
    }
}
