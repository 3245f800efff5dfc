using System.Runtime.CompilerServices;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>PUSHF/POPF, LAHF/SAHF and the single-flag instructions (CLC, STC, CMC, CLD, STD).</summary>
internal static unsafe class FlagOps
{
    /// <summary>
    /// RFLAGS bits user mode may change with POPF: the arithmetic flags, DF, NT, AC and ID
    /// (ID toggling is how old code probes for CPUID). IF and IOPL are silently kept at CPL 3;
    /// TF is kept clear because single-step traps are not emulated (hardware would deliver
    /// SIGTRAP after the next instruction, which we cannot do honestly).
    /// </summary>
    internal const ulong PopfWritable = CpuState.ArithFlags | CpuState.DF | 0x4000 | 0x40000 | 0x200000;

    public static void Register()
    {
        OpTable.Add(Code.Pushfq, SystemOps.Simple(&Pushf<W64>));
        OpTable.Add(Code.Pushfw, SystemOps.Simple(&Pushf<W16>));
        OpTable.Add(Code.Popfq, SystemOps.Simple(&Popf<W64>));
        OpTable.Add(Code.Popfw, SystemOps.Simple(&Popf<W16>));
        OpTable.Add(Code.Lahf, SystemOps.Simple(&Lahf));
        OpTable.Add(Code.Sahf, SystemOps.Simple(&Sahf));
        OpTable.Add(Code.Clc, SystemOps.Simple(&Clc));
        OpTable.Add(Code.Stc, SystemOps.Simple(&Stc));
        OpTable.Add(Code.Cmc, SystemOps.Simple(&Cmc));
        OpTable.Add(Code.Cld, SystemOps.Simple(&Cld));
        OpTable.Add(Code.Std, SystemOps.Simple(&Std));
    }

    private static int Pushf<W>(CpuState c, Op* op)
        where W : IWidth
    {
        // RF and VM always read as 0 in the pushed image; we never set them.
        Stack.Push<W>(c, c.Rflags);
        return 0;
    }

    private static int Popf<W>(CpuState c, Op* op)
        where W : IWidth
    {
        var v = Stack.Pop<W>(c);
        var writable = PopfWritable & W.Mask;
        c.Rflags = (c.Rflags & ~writable) | (v & writable);
        return 0;
    }

    private static int Lahf(CpuState c, Op* op)
    {
        // AH = SF:ZF:0:AF:0:PF:1:CF.
        Unsafe.Add(ref c.RegBytes, 1) = (byte)(c.ArithmeticFlags & 0xD5 | 2);
        return 0;
    }

    private static int Sahf(CpuState c, Op* op)
    {
        const ulong mask = CpuState.SF | CpuState.ZF | CpuState.AF | CpuState.PF | CpuState.CF;
        c.UpdateFlags(mask, Unsafe.Add(ref c.RegBytes, 1));
        return 0;
    }

    private static int Clc(CpuState c, Op* op)
    {
        c.UpdateFlags(CpuState.CF, 0);
        return 0;
    }

    private static int Stc(CpuState c, Op* op)
    {
        c.UpdateFlags(CpuState.CF, CpuState.CF);
        return 0;
    }

    private static int Cmc(CpuState c, Op* op)
    {
        c.UpdateFlags(CpuState.CF, c.CarryFlag ? 0 : CpuState.CF);
        return 0;
    }

    private static int Cld(CpuState c, Op* op)
    {
        c.FlagsOther &= ~CpuState.DF;
        return 0;
    }

    private static int Std(CpuState c, Op* op)
    {
        c.FlagsOther |= CpuState.DF;
        return 0;
    }
}
