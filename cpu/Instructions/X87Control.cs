using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// x87 control: FLDCW, F(N)STCW, F(N)STSW, F(N)CLEX, F(N)INIT, F(N)STENV, FLDENV, F(N)SAVE,
/// FRSTOR, FWAIT, and the 8087/287 leftovers that are no-ops since the 387 (FENI, FDISI, FSETPM).
/// The F-forms without N wait first: a pending unmasked exception is delivered (#MF).
/// </summary>
internal static unsafe class X87Control
{
    /// <summary>FCW bits that exist; bit 6 always reads as one.</summary>
    private const ushort ControlMask = 0x1F3F;

    public static void Register()
    {
        Mem(Mnemonic.Fldcw, &Fldcw);
        Mem(Mnemonic.Fnstcw, &Fnstcw);
        Mem(Mnemonic.Fstcw, &Fstcw);
        OpTable.AddMnemonic(Mnemonic.Fnstsw, BuildStsw(false));
        OpTable.AddMnemonic(Mnemonic.Fstsw, BuildStsw(true));
        OpTable.AddMnemonic(Mnemonic.Fnclex, SystemOps.Simple(&Fnclex));
        OpTable.AddMnemonic(Mnemonic.Fclex, SystemOps.Simple(&Fclex));
        OpTable.AddMnemonic(Mnemonic.Fninit, SystemOps.Simple(&Fninit));
        OpTable.AddMnemonic(Mnemonic.Finit, SystemOps.Simple(&Finit));
        OpTable.AddMnemonic(Mnemonic.Wait, SystemOps.Simple(&Fwait));
        OpTable.AddMnemonic(Mnemonic.Fneni, SystemOps.Simple(&Nop));
        OpTable.AddMnemonic(Mnemonic.Fndisi, SystemOps.Simple(&Nop));
        OpTable.AddMnemonic(Mnemonic.Fnsetpm, SystemOps.Simple(&Nop));
        OpTable.AddMnemonic(Mnemonic.Feni, SystemOps.Simple(&Fwait));
        OpTable.AddMnemonic(Mnemonic.Fdisi, SystemOps.Simple(&Fwait));
        OpTable.AddMnemonic(Mnemonic.Fsetpm, SystemOps.Simple(&Fwait));

        Env(Mnemonic.Fnstenv, &Fnstenv, &Fnstenv16, 0);
        Env(Mnemonic.Fstenv, &Fnstenv, &Fnstenv16, 1);
        Env(Mnemonic.Fldenv, &Fldenv, &Fldenv16, 1);
        Env(Mnemonic.Fnsave, &Fnsave, &Fnsave16, 0);
        Env(Mnemonic.Fsave, &Fnsave, &Fnsave16, 1);
        Env(Mnemonic.Frstor, &Frstor, &Frstor16, 1);
    }

    private static void Mem(Mnemonic m, delegate*<CpuState, Op*, int> h) => OpTable.AddMnemonic(m, (in Instruction insn, ref Op op) =>
    {
        op.Handler = h;
        return Operands.Mem(insn, ref op);
    });

    /// <summary>The 28/108-byte (32-bit) or 14/94-byte (16-bit operand size) forms; Aux 1 waits first.</summary>
    private static void Env(Mnemonic m, delegate*<CpuState, Op*, int> h32, delegate*<CpuState, Op*, int> h16, byte wait) =>
        OpTable.AddMnemonic(m, (in Instruction insn, ref Op op) =>
        {
            op.Aux = wait;
            op.Handler = insn.MemorySize is MemorySize.FpuEnv14 or MemorySize.FpuState94 ? h16 : h32;
            return Operands.Mem(insn, ref op);
        });

    private static OpBuilder BuildStsw(bool wait) => (in Instruction insn, ref Op op) =>
    {
        op.Aux = (byte)(wait ? 1 : 0);
        if (insn.Op0Kind == OpKind.Register)
        {
            op.Handler = &FnstswAx;
            return true;
        }

        op.Handler = &FnstswMem;
        return Operands.Mem(insn, ref op);
    };

    private static int Nop(CpuState c, Op* op) => 0;

    private static int Fwait(CpuState c, Op* op) => X87.Pending(c) ? X87.Fault(c, op) : 0;

    private static int Fldcw(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87.Control = (ushort)((c.Read16(c.Ea(op)) & ControlMask) | 0x40);
        return 0;
    }

    private static int Fnstcw(CpuState c, Op* op)
    {
        c.Write16(c.Ea(op), c.X87.Control);
        return 0;
    }

    private static int Fstcw(CpuState c, Op* op) => X87.Pending(c) ? X87.Fault(c, op) : Fnstcw(c, op);

    private static int FnstswAx(CpuState c, Op* op)
    {
        if (op->Aux != 0 && X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.Regs[0] = (c.Regs[0] & ~0xFFFFUL) | c.X87.StatusWord;
        return 0;
    }

    private static int FnstswMem(CpuState c, Op* op)
    {
        if (op->Aux != 0 && X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.Write16(c.Ea(op), c.X87.StatusWord);
        return 0;
    }

    private static int Fnclex(CpuState c, Op* op)
    {
        c.X87.Status &= 0x7F00;
        return 0;
    }

    private static int Fclex(CpuState c, Op* op) => X87.Pending(c) ? X87.Fault(c, op) : Fnclex(c, op);

    private static int Fninit(CpuState c, Op* op)
    {
        c.X87.Init();
        return 0;
    }

    private static int Finit(CpuState c, Op* op) => X87.Pending(c) ? X87.Fault(c, op) : Fninit(c, op);

    // ---------------------------------------------------------------- environment and state images

    private static void StoreEnv32(CpuState c, ulong a)
    {
        ref var x = ref c.X87;
        c.Write8(a + 27, 0xFF);
        c.Write32(a, 0xFFFF_0000u | x.Control);
        c.Write32(a + 4, 0xFFFF_0000u | x.StatusWord);
        c.Write32(a + 8, 0xFFFF_0000u | x.TagWord);
        c.Write32(a + 12, (uint)x.Fip);
        c.Write32(a + 16, x.Fcs | ((uint)c.X87Opcode << 16));
        c.Write32(a + 20, (uint)x.Fdp);
        c.Write32(a + 24, 0xFFFF_0000u | x.Fds);
    }

    private static void StoreEnv16(CpuState c, ulong a)
    {
        ref var x = ref c.X87;
        c.Write8(a + 13, 0);
        c.Write16(a, x.Control);
        c.Write16(a + 2, x.StatusWord);
        c.Write16(a + 4, x.TagWord);
        c.Write16(a + 6, (ushort)x.Fip);
        c.Write16(a + 8, x.Fcs);
        c.Write16(a + 10, (ushort)x.Fdp);
        c.Write16(a + 12, x.Fds);
    }

    private static void LoadEnv32(CpuState c, ulong a)
    {
        c.Read8(a + 27);
        ref var x = ref c.X87;
        x.Control = (ushort)((c.Read16(a) & ControlMask) | 0x40);
        x.SetStatusWord(c.Read16(a + 4));
        x.SetTagWord(c.Read16(a + 8));
        x.Fip = c.Read32(a + 12);
        x.Fcs = c.Read16(a + 16);
        x.Fop = (ushort)((c.Read32(a + 16) >> 16) & 0x7FF);
        x.FopValid = true;
        x.Fdp = c.Read32(a + 20);
        x.Fds = c.Read16(a + 24);
    }

    private static void LoadEnv16(CpuState c, ulong a)
    {
        c.Read8(a + 13);
        ref var x = ref c.X87;
        x.Control = (ushort)((c.Read16(a) & ControlMask) | 0x40);
        x.SetStatusWord(c.Read16(a + 2));
        x.SetTagWord(c.Read16(a + 4));
        x.Fip = c.Read16(a + 6);
        x.Fcs = c.Read16(a + 8);
        x.Fop = 0;
        x.FopValid = true;
        x.Fdp = c.Read16(a + 10);
        x.Fds = c.Read16(a + 12);
    }

    private static void StoreRegs(CpuState c, ulong a)
    {
        for (var i = 0; i < 8; i++)
        {
            var v = c.St(i);
            c.Write64(a + (ulong)(10 * i), v.Significand);
            c.Write16(a + (ulong)(10 * i) + 8, v.SignExponent);
        }
    }

    private static void LoadRegs(CpuState c, ulong a)
    {
        for (var i = 0; i < 8; i++)
        {
            c.St(i) = new Float80(c.Read16(a + (ulong)(10 * i) + 8), c.Read64(a + (ulong)(10 * i)));
        }
    }

    private static int Fnstenv(CpuState c, Op* op)
    {
        if (op->Aux != 0 && X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        StoreEnv32(c, c.Ea(op));
        c.X87.Control |= 0x3F;
        return 0;
    }

    private static int Fnstenv16(CpuState c, Op* op)
    {
        if (op->Aux != 0 && X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        StoreEnv16(c, c.Ea(op));
        c.X87.Control |= 0x3F;
        return 0;
    }

    private static int Fldenv(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        LoadEnv32(c, c.Ea(op));
        return 0;
    }

    private static int Fldenv16(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        LoadEnv16(c, c.Ea(op));
        return 0;
    }

    private static int Fnsave(CpuState c, Op* op)
    {
        if (op->Aux != 0 && X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        var a = c.Ea(op);
        c.Write8(a + 107, 0);
        StoreEnv32(c, a);
        StoreRegs(c, a + 28);
        c.X87.Init();
        return 0;
    }

    private static int Fnsave16(CpuState c, Op* op)
    {
        if (op->Aux != 0 && X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        var a = c.Ea(op);
        c.Write8(a + 93, 0);
        StoreEnv16(c, a);
        StoreRegs(c, a + 14);
        c.X87.Init();
        return 0;
    }

    private static int Frstor(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        var a = c.Ea(op);
        c.Read8(a + 107);
        LoadEnv32(c, a);
        LoadRegs(c, a + 28);
        return 0;
    }

    private static int Frstor16(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        var a = c.Ea(op);
        c.Read8(a + 93);
        LoadEnv16(c, a);
        LoadRegs(c, a + 14);
        return 0;
    }
}
