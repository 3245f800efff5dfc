using System.Buffers.Binary;
using Iced.Intel;
using UserModeOS.Cpu.Memory;
using static Iced.Intel.AssemblerRegisters;

namespace UserModeOS.Cpu.Tests.Differential;

/// <summary>
/// The static executable one batch of cases runs in natively. A driver loop loads each case's
/// input record (scratch page, MXCSR, XMM, RFLAGS, GPRs), jumps to the case's code, and the
/// shared epilogue the code jumps back to writes the resulting state to stdout.
/// </summary>
/// <remarks>
/// The executor never runs the driver: it runs only the case code, at the same addresses, with
/// the same state put straight into the <see cref="CpuState"/>, and stops at a <c>hlt</c>
/// written over the jump back. So the comparison needs no instruction beyond those under test.
/// </remarks>
internal sealed class TestProgram
{
    public const ulong CodeAddress = 0x40_1000;
    public const ulong DataAddress = 0x1000_0000;
    public const int PageSize = 4096;
    public const int CaseStackSize = 1024;

    // Input record: what the driver loads before a case.
    public const int InGpr = 0;
    public const int InFlags = 128;
    public const int InMxcsr = 136;
    public const int InXmm = 144;
    public const int InCode = 400;
    public const int InStackTop = 408;
    public const int InScratch = 416;
    public const int InScratchLength = 424;
    public const int InSize = 432;

    // Output record: what the epilogue writes after a case, followed by the scratch page if it changed.
    public const int OutGpr = 0;
    public const int OutFlags = 128;
    public const int OutMxcsr = 136;
    public const int OutScratchChanged = 140;
    public const int OutXmm = 144;

    /// <summary>The FXSAVE64 image after the case (its x87 part is compared; MXCSR and XMM are above).</summary>
    public const int OutFx = 400;
    public const int FxSize = 512;
    public const int OutSize = OutFx + FxSize;

    /// <summary>Where the driver keeps the FXSAVE image of a clean FPU (FNINIT, registers zero) it loads before each case.</summary>
    private const int CleanFx = 1024;

    private static readonly AssemblerRegister64[] Gprs =
        [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];

    private static readonly AssemblerRegisterXMM[] Xmms =
        [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15];

    private TestProgram(byte[] elf, CaseCode[] cases)
    {
        Elf = elf;
        Cases = cases;
    }

    public byte[] Elf { get; }

    /// <summary>Per case, where its code is and where it ends (the jump back to the epilogue).</summary>
    public CaseCode[] Cases { get; }

    public static TestProgram Build(IReadOnlyList<DiffCase> cases)
    {
        var n = cases.Count;
        var scratchBlob = new MemoryStream();
        var scratchOffsets = new long[n];
        foreach (var (c, i) in cases.Select((c, i) => (c, i)))
        {
            Validate(c);
            scratchOffsets[i] = scratchBlob.Length;
            scratchBlob.Write(c.Scratch ?? []);
        }

        // Data segment: input records and scratch contents from the file, then the bss.
        var scratchInputs = (ulong)(n * InSize);
        var fileSize = Align(scratchInputs + (ulong)scratchBlob.Length, 16);
        var curIn = DataAddress + Align(fileSize, PageSize);
        var curCode = curIn + 8;
        var remaining = curIn + 16;
        var saveArea = curIn + 64;
        var zeroPage = curIn + PageSize;
        var driverStackTop = zeroPage + (2 * PageSize);
        var caseStacks = driverStackTop;
        var dataEnd = caseStacks + (ulong)(n * CaseStackSize);
        if (dataEnd >= Differential.ScratchAddress - PageSize)
        {
            throw new ArgumentException($"{n} cases are too many for one batch");
        }

        var asm = new Assembler(64);
        var starts = new int[n];
        var ends = new int[n];
        EmitDriver(asm, n, curIn, curCode, remaining, saveArea, zeroPage, driverStackTop, out var save);
        for (var i = 0; i < n; i++)
        {
            starts[i] = asm.Instructions.Count;
            cases[i].Code(asm);
            ends[i] = asm.Instructions.Count;
            asm.jmp(save);
        }

        var code = new MemoryStream();
        var result = asm.Assemble(new StreamCodeWriter(code), CodeAddress, BlockEncoderOptions.ReturnNewInstructionOffsets);
        var offsets = result.Result[0].NewInstructionOffsets;
        var caseCode = new CaseCode[n];
        for (var i = 0; i < n; i++)
        {
            var start = CodeAddress + offsets[starts[i]];
            caseCode[i] = new CaseCode(start, CodeAddress + offsets[ends[i]], caseStacks + (ulong)((i + 1) * CaseStackSize));
        }

        var data = new byte[fileSize];
        for (var i = 0; i < n; i++)
        {
            var c = cases[i];
            var r = data.AsSpan(i * InSize, InSize);
            for (var g = 0; g < 16; g++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(r[(InGpr + (8 * g))..], g == 4 ? caseCode[i].StackTop : c.Gpr[g]);
            }

            // IF is always set in user mode; bit 1 always reads one.
            BinaryPrimitives.WriteUInt64LittleEndian(r[InFlags..], c.Flags | 0x202);
            BinaryPrimitives.WriteUInt32LittleEndian(r[InMxcsr..], c.Mxcsr);
            for (var x = 0; x < 16; x++)
            {
                BinaryPrimitives.WriteUInt128LittleEndian(r[(InXmm + (16 * x))..], c.Xmm[x]);
            }

            BinaryPrimitives.WriteUInt64LittleEndian(r[InCode..], caseCode[i].Start);
            BinaryPrimitives.WriteUInt64LittleEndian(r[InStackTop..], caseCode[i].StackTop);
            BinaryPrimitives.WriteUInt64LittleEndian(r[InScratch..], DataAddress + scratchInputs + (ulong)scratchOffsets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(r[InScratchLength..], (ulong)(c.Scratch?.Length ?? 0));
        }

        scratchBlob.ToArray().CopyTo(data, (long)scratchInputs);

        var elf = ElfImage.Write(CodeAddress, [
            new ElfSegment(CodeAddress, code.ToArray(), (ulong)code.Length, PageProt.Read | PageProt.Exec),
            new ElfSegment(DataAddress, data, dataEnd - DataAddress, PageProt.Read | PageProt.Write),
            new ElfSegment(Differential.ScratchAddress, [], PageSize, PageProt.Read | PageProt.Write),
        ]);
        return new TestProgram(elf, caseCode);
    }

    private static void Validate(DiffCase c)
    {
        if (c.Gpr.Length != 16 || c.Xmm.Length != 16)
        {
            throw new ArgumentException($"case '{c.Name}': Gpr and Xmm must have 16 entries");
        }

        if ((c.Flags & ~(CpuState.ArithFlags | CpuState.DF)) != 0)
        {
            throw new ArgumentException($"case '{c.Name}': Flags may hold only CF|PF|AF|ZF|SF|OF|DF");
        }

        if (c.Scratch is { Length: > PageSize })
        {
            throw new ArgumentException($"case '{c.Name}': Scratch is larger than a page");
        }
    }

    private static void EmitDriver(
        Assembler asm, int n, ulong curIn, ulong curCode, ulong remaining, ulong saveArea, ulong zeroPage,
        ulong driverStackTop, out Label save)
    {
        var next = asm.CreateLabel();
        var writeAll = asm.CreateLabel();
        var changed = asm.CreateLabel();
        var emit = asm.CreateLabel();
        var advance = asm.CreateLabel();
        var die = asm.CreateLabel();
        save = asm.CreateLabel();

        asm.mov(rsp, driverStackTop);

        // prctl(PR_SET_DUMPABLE, 0): a case that faults on purpose must not leave a core file.
        asm.mov(eax, 157);
        asm.mov(edi, 4);
        asm.xor(esi, esi);
        asm.syscall();

        asm.mov(rax, DataAddress);
        asm.mov(__qword_ptr[curIn], rax);
        asm.mov(__word_ptr[curIn + CleanFx], 0x037F);
        asm.mov(__dword_ptr[curIn + CleanFx + 24], 0x1F80);
        asm.mov(rax, (ulong)n);
        asm.mov(__qword_ptr[remaining], rax);

        // Load case [curIn].
        asm.Label(ref next);
        asm.cld();
        asm.mov(rbx, __qword_ptr[curIn]);
        asm.mov(rax, __qword_ptr[rbx + InCode]);
        asm.mov(__qword_ptr[curCode], rax);
        asm.mov(rdi, Differential.ScratchAddress);
        asm.mov(ecx, PageSize);
        asm.xor(eax, eax);
        asm.rep.stosb();
        asm.mov(rdi, Differential.ScratchAddress);
        asm.mov(rsi, __qword_ptr[rbx + InScratch]);
        asm.mov(rcx, __qword_ptr[rbx + InScratchLength]);
        asm.rep.movsb();
        asm.fxrstor64(__[curIn + CleanFx]);
        asm.ldmxcsr(__dword_ptr[rbx + InMxcsr]);
        for (var x = 0; x < 16; x++)
        {
            asm.movdqu(Xmms[x], __xmmword_ptr[rbx + (InXmm + (16 * x))]);
        }

        asm.lea(rsp, __qword_ptr[rbx + InFlags]);
        asm.popfq();

        // Nothing below touches the flags; RBX is the record pointer, so it is loaded last.
        asm.mov(rsp, __qword_ptr[rbx + InStackTop]);
        for (var g = 0; g < 16; g++)
        {
            if (g is not 3 and not 4)
            {
                asm.mov(Gprs[g], __qword_ptr[rbx + (InGpr + (8 * g))]);
            }
        }

        asm.mov(rbx, __qword_ptr[rbx + (InGpr + 24)]);
        asm.jmp(__qword_ptr[curCode]);

        // Every case jumps here: store the state with absolute addresses, which need no register.
        asm.Label(ref save);
        for (var g = 0; g < 16; g++)
        {
            asm.mov(__qword_ptr[saveArea + (ulong)(OutGpr + (8 * g))], Gprs[g]);
        }

        asm.mov(rsp, saveArea + OutFlags + 8);
        asm.pushfq();
        asm.stmxcsr(__dword_ptr[saveArea + OutMxcsr]);
        asm.fxsave64(__[saveArea + OutFx]);
        for (var x = 0; x < 16; x++)
        {
            asm.movdqu(__xmmword_ptr[saveArea + (ulong)(OutXmm + (16 * x))], Xmms[x]);
        }

        asm.mov(rsp, driverStackTop);
        asm.cld();

        // Did the case change the scratch page? Compare it with the case's bytes, then with zeroes.
        asm.mov(rbx, __qword_ptr[curIn]);
        asm.mov(rsi, Differential.ScratchAddress);
        asm.mov(rdi, __qword_ptr[rbx + InScratch]);
        asm.mov(rcx, __qword_ptr[rbx + InScratchLength]);
        asm.xor(eax, eax); // ZF=1 in case the length is zero and cmpsb compares nothing
        asm.repe.cmpsb();
        asm.jne(changed);
        asm.mov(rdi, zeroPage);
        asm.mov(ecx, PageSize);
        asm.sub(rcx, __qword_ptr[rbx + InScratchLength]);
        asm.repe.cmpsb();
        asm.jne(changed);
        asm.mov(__dword_ptr[saveArea + OutScratchChanged], 0);
        asm.jmp(emit);
        asm.Label(ref changed);
        asm.mov(__dword_ptr[saveArea + OutScratchChanged], 1);

        asm.Label(ref emit);
        asm.mov(rsi, saveArea);
        asm.mov(edx, OutSize);
        asm.call(writeAll);
        asm.cmp(__dword_ptr[saveArea + OutScratchChanged], 0);
        asm.je(advance);
        asm.mov(rsi, Differential.ScratchAddress);
        asm.mov(edx, PageSize);
        asm.call(writeAll);

        asm.Label(ref advance);
        asm.add(__qword_ptr[curIn], InSize);
        asm.sub(__qword_ptr[remaining], 1);
        asm.jne(next);
        asm.mov(eax, 231); // exit_group(0)
        asm.xor(edi, edi);
        asm.syscall();

        // write(1, rsi, rdx) until all is written.
        asm.Label(ref writeAll);
        asm.mov(eax, 1);
        asm.mov(edi, 1);
        asm.syscall();
        asm.test(rax, rax);
        asm.jle(die);
        asm.add(rsi, rax);
        asm.sub(rdx, rax);
        asm.jne(writeAll);
        asm.ret();

        asm.Label(ref die);
        asm.mov(eax, 231);
        asm.mov(edi, 3);
        asm.syscall();
    }

    private static ulong Align(ulong n, ulong to) => (n + to - 1) & ~(to - 1);
}

/// <summary>Where a case's code starts and ends in the test program, and its initial RSP.</summary>
internal readonly record struct CaseCode(ulong Start, ulong End, ulong StackTop);
