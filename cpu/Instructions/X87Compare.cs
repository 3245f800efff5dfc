using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// x87 comparisons: FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP, FICOM/FICOMP (condition codes),
/// FCOMI/FCOMIP/FUCOMI/FUCOMIP (ZF, PF, CF), FTST and FXAM.
/// </summary>
internal static unsafe class X87Compare
{
    private const byte Quiet = 4, ToEflags = 8;

    public static void Register()
    {
        Reg(Mnemonic.Fcom, 0);
        Reg(Mnemonic.Fcomp, 1);
        Reg(Mnemonic.Fucom, Quiet);
        Reg(Mnemonic.Fucomp, 1 | Quiet);
        Reg(Mnemonic.Fcomi, ToEflags);
        Reg(Mnemonic.Fcomip, 1 | ToEflags);
        Reg(Mnemonic.Fucomi, Quiet | ToEflags);
        Reg(Mnemonic.Fucomip, 1 | Quiet | ToEflags);
        OpTable.AddMnemonic(Mnemonic.Fcompp, Fixed(2));
        OpTable.AddMnemonic(Mnemonic.Fucompp, Fixed(2 | Quiet));
        Int(Mnemonic.Ficom, 0);
        Int(Mnemonic.Ficomp, 1);
        OpTable.AddMnemonic(Mnemonic.Ftst, SystemOps.Simple(&Ftst));
        OpTable.AddMnemonic(Mnemonic.Fxam, SystemOps.Simple(&Fxam));
    }

    private static void Reg(Mnemonic m, byte aux) => OpTable.AddMnemonic(m, (in Instruction insn, ref Op op) =>
    {
        op.Aux = aux;
        if (insn.Op0Kind == OpKind.Memory)
        {
            op.Handler = insn.MemorySize == MemorySize.Float32 ? &ComMem<M32Fp> : &ComMem<M64Fp>;
            return Operands.Mem(insn, ref op);
        }

        op.R1 = X87.St(insn.OpCount > 1 ? insn.Op1Register : insn.Op0Register);
        op.Handler = &ComSt;
        return true;
    });

    private static OpBuilder Fixed(byte aux) => (in Instruction insn, ref Op op) =>
    {
        op.Aux = aux;
        op.R1 = 1;
        op.Handler = &ComSt;
        return true;
    };

    private static void Int(Mnemonic m, byte aux) => OpTable.AddMnemonic(m, (in Instruction insn, ref Op op) =>
    {
        op.Aux = aux;
        op.Handler = insn.MemorySize == MemorySize.Int16 ? &ComMem<M16Int> : &ComMem<M32Int>;
        return Operands.Mem(insn, ref op);
    });

    /// <summary>C3, C2, C0 for greater, less, equal, unordered (C1 is cleared).</summary>
    private static ushort Codes(int r) => r switch
    {
        1 => 0,
        -1 => 0x100,
        0 => 0x4000,
        _ => 0x4500,
    };

    private static void Report(CpuState c, int r, byte aux)
    {
        if ((aux & ToEflags) != 0)
        {
            var v = r switch
            {
                1 => 0UL,
                -1 => CpuState.CF,
                0 => CpuState.ZF,
                _ => CpuState.ZF | CpuState.PF | CpuState.CF,
            };
            c.UpdateFlags(CpuState.ArithFlags, v);
        }
        else
        {
            c.X87.Status = (ushort)((c.X87.Status & ~0x4500) | Codes(r));
        }
    }

    private static void Pops(CpuState c, byte aux)
    {
        for (var i = aux & 3; i > 0; i--)
        {
            c.X87Pop();
        }
    }

    private static int ComSt(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        var aux = op->Aux;
        if (X87.Empty(c, 0, op->R1))
        {
            // Unmasked, the condition codes still say unordered; only the pops are cancelled.
            var masked = c.X87Underflow();
            Report(c, 2, aux);
            if (masked)
            {
                Pops(c, aux);
            }

            return 0;
        }

        uint f = 0;
        var r = F80.Compare(c.St(0), c.St(op->R1), (aux & Quiet) != 0, ref f);
        var ok = c.X87Commit(f);
        Report(c, r, aux);
        if (ok)
        {
            Pops(c, aux);
        }

        return 0;
    }

    private static int ComMem<L>(CpuState c, Op* op)
        where L : struct, IX87Load
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        var ea = c.Ea(op);
        uint lf = 0;
        var src = L.Load(c, ea, ref lf);
        c.X87Note(op->Rip);
        c.X87NoteMem(op, ea);
        var aux = op->Aux;
        if (c.StEmpty(0))
        {
            // Unmasked, the condition codes still say unordered; only the pops are cancelled.
            var masked = c.X87Underflow();
            Report(c, 2, aux);
            if (masked)
            {
                Pops(c, aux);
            }

            return 0;
        }

        uint f = 0;
        var dst = c.St(0);
        var r = F80.Compare(dst, src, false, ref f);
        if (F80.Classify(dst) < F80.Kind.QNaN && F80.Classify(src) < F80.Kind.QNaN)
        {
            f |= lf;
        }

        var ok = c.X87Commit(f);
        Report(c, r, aux);
        if (ok)
        {
            Pops(c, aux);
        }

        return 0;
    }

    private static int Ftst(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        if (c.StEmpty(0))
        {
            c.X87Underflow();
            Report(c, 2, 0);

            return 0;
        }

        uint f = 0;
        var r = F80.Compare(c.St(0), default, false, ref f);
        c.X87Commit(f);
        Report(c, r, 0);

        return 0;
    }

    private static int Fxam(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        var v = c.St(0);
        int codes;
        if (c.StEmpty(0))
        {
            codes = 0x4100;
        }
        else
        {
            codes = F80.Classify(v, out var denormal) switch
            {
                F80.Kind.Unsupported => 0,
                F80.Kind.QNaN or F80.Kind.SNaN => 0x100,
                F80.Kind.Inf => 0x500,
                F80.Kind.Zero => 0x4000,
                _ => denormal ? 0x4400 : 0x400,
            };
        }

        codes |= v.Negative ? 0x200 : 0;
        c.X87.Status = (ushort)((c.X87.Status & ~0x4700) | codes);
        return 0;
    }
}
