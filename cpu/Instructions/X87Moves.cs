using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// x87 data transfer: FLD/FST/FSTP (m32, m64, m80, ST(i)), FILD/FIST/FISTP/FISTTP, FBLD/FBSTP,
/// the constants (FLD1, FLDZ, FLDPI, FLDL2E, FLDL2T, FLDLG2, FLDLN2), FXCH, FCMOVcc and the
/// stack housekeeping (FFREE, FFREEP, FINCSTP, FDECSTP, FNOP).
/// </summary>
internal static unsafe class X87Moves
{
    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Fld, (in Instruction insn, ref Op op) =>
        {
            if (insn.Op0Kind == OpKind.Register)
            {
                op.R1 = X87.St(insn.Op0Register);
                op.Handler = &FldSt;
                return true;
            }

            op.Handler = insn.MemorySize switch
            {
                MemorySize.Float32 => &FldMem<M32Fp>,
                MemorySize.Float64 => &FldMem<M64Fp>,
                _ => &FldMem<M80Fp>,
            };
            return Operands.Mem(insn, ref op);
        });
        OpTable.AddMnemonic(Mnemonic.Fild, (in Instruction insn, ref Op op) =>
        {
            op.Handler = insn.MemorySize switch
            {
                MemorySize.Int16 => &FldMem<M16Int>,
                MemorySize.Int32 => &FldMem<M32Int>,
                _ => &FldMem<M64Int>,
            };
            return Operands.Mem(insn, ref op);
        });
        OpTable.AddMnemonic(Mnemonic.Fbld, (in Instruction insn, ref Op op) =>
        {
            op.Handler = &Fbld;
            return Operands.Mem(insn, ref op);
        });

        OpTable.AddMnemonic(Mnemonic.Fst, BuildStore(0));
        OpTable.AddMnemonic(Mnemonic.Fstp, BuildStore(1));
        OpTable.AddMnemonic(Mnemonic.Fstpnce, BuildStore(1));
        OpTable.AddMnemonic(Mnemonic.Fist, BuildIntStore(0));
        OpTable.AddMnemonic(Mnemonic.Fistp, BuildIntStore(1));
        OpTable.AddMnemonic(Mnemonic.Fisttp, BuildIntStore(3));
        OpTable.AddMnemonic(Mnemonic.Fbstp, (in Instruction insn, ref Op op) =>
        {
            op.Handler = &Fbstp;
            return Operands.Mem(insn, ref op);
        });

        OpTable.AddMnemonic(Mnemonic.Fld1, Constant(0));
        OpTable.AddMnemonic(Mnemonic.Fldl2t, Constant(1));
        OpTable.AddMnemonic(Mnemonic.Fldl2e, Constant(2));
        OpTable.AddMnemonic(Mnemonic.Fldpi, Constant(3));
        OpTable.AddMnemonic(Mnemonic.Fldlg2, Constant(4));
        OpTable.AddMnemonic(Mnemonic.Fldln2, Constant(5));
        OpTable.AddMnemonic(Mnemonic.Fldz, Constant(6));

        OpTable.AddMnemonic(Mnemonic.Fxch, (in Instruction insn, ref Op op) =>
        {
            op.R1 = X87.St(insn.Op1Register);
            op.Handler = &Fxch;
            return true;
        });

        Cmov(Mnemonic.Fcmovb, 2);
        Cmov(Mnemonic.Fcmovnb, 3);
        Cmov(Mnemonic.Fcmove, 4);
        Cmov(Mnemonic.Fcmovne, 5);
        Cmov(Mnemonic.Fcmovbe, 6);
        Cmov(Mnemonic.Fcmovnbe, 7);
        Cmov(Mnemonic.Fcmovu, 10);
        Cmov(Mnemonic.Fcmovnu, 11);

        OpTable.AddMnemonic(Mnemonic.Ffree, (in Instruction insn, ref Op op) =>
        {
            op.R1 = X87.St(insn.Op0Register);
            op.Handler = &Ffree;
            return true;
        });
        OpTable.AddMnemonic(Mnemonic.Ffreep, (in Instruction insn, ref Op op) =>
        {
            op.R1 = X87.St(insn.Op0Register);
            op.Aux = 1;
            op.Handler = &Ffree;
            return true;
        });
        OpTable.AddMnemonic(Mnemonic.Fincstp, SystemOps.Simple(&Fincstp));
        OpTable.AddMnemonic(Mnemonic.Fdecstp, SystemOps.Simple(&Fdecstp));
        OpTable.AddMnemonic(Mnemonic.Fnop, SystemOps.Simple(&Fnop));
    }

    private static OpBuilder BuildStore(byte pop) => (in Instruction insn, ref Op op) =>
    {
        op.Aux = pop;
        if (insn.Op0Kind == OpKind.Register)
        {
            op.R1 = X87.St(insn.Op0Register);
            op.Handler = &FstSt;
            return true;
        }

        op.Handler = insn.MemorySize switch
        {
            MemorySize.Float32 => &FstM32,
            MemorySize.Float64 => &FstM64,
            _ => &FstM80,
        };
        return Operands.Mem(insn, ref op);
    };

    private static OpBuilder BuildIntStore(byte mode) => (in Instruction insn, ref Op op) =>
    {
        op.Aux = mode;
        op.Handler = insn.MemorySize switch
        {
            MemorySize.Int16 => &FistM16,
            MemorySize.Int32 => &FistM32,
            _ => &FistM64,
        };
        return Operands.Mem(insn, ref op);
    };

    private static OpBuilder Constant(byte which) => (in Instruction insn, ref Op op) =>
    {
        op.Aux = which;
        op.Handler = &Fldc;
        return true;
    };

    private static void Cmov(Mnemonic m, byte cc) => OpTable.AddMnemonic(m, (in Instruction insn, ref Op op) =>
    {
        op.R1 = X87.St(insn.Op1Register);
        op.Aux = cc;
        op.Handler = &Fcmov;
        return true;
    });

    // ---------------------------------------------------------------- loads

    private static int FldMem<L>(CpuState c, Op* op)
        where L : struct, IX87Load
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        var ea = c.Ea(op);
        uint f = 0;
        var v = L.Load(c, ea, ref f);
        if ((typeof(L) == typeof(M32Fp) || typeof(L) == typeof(M64Fp)) && F80.Classify(v) == F80.Kind.SNaN)
        {
            f |= F80.IE;
            v = F80.Quiet(v);
        }

        c.X87Note(op->Rip);
        c.X87NoteMem(op, ea);

        // An unmasked denormal-operand exception does not stop the load.
        if (!c.X87Commit(f & ~F80.DE))
        {
            return 0;
        }

        c.X87.Status |= (ushort)(f & F80.DE);
        c.X87Push(v, 0);
        return 0;
    }

    private static int FldSt(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        if (c.StEmpty(op->R1))
        {
            if (!c.X87Underflow())
            {
                return 0;
            }

            c.X87Push(Float80.Indefinite, F80.IE | F80.SF);
            return 0;
        }

        c.X87Push(c.St(op->R1), 0);
        return 0;
    }

    /// <summary>The 128-bit significands of 1, log2(10), log2(e), π, log10(2), ln(2), with their exponents.</summary>
    private static readonly (UInt128 Sig, int Exp)[] Constants =
    [
        ((UInt128)1 << 127, 0),
        (new UInt128(0xD49A_784B_CD1B_8AFE, 0x492B_F6FF_4DAF_DB4C), 1),
        (new UInt128(0xB8AA_3B29_5C17_F0BB, 0xBE87_FED0_691D_3E88), 0),
        (new UInt128(0xC90F_DAA2_2168_C234, 0xC4C6_628B_80DC_1CD1), 1),
        (new UInt128(0x9A20_9A84_FBCF_F798, 0x8F89_59AC_0B7C_9178), -2),
        (new UInt128(0xB172_17F7_D1CF_79AB, 0xC9E3_B398_03F2_F6AF), -1),
    ];

    private static int Fldc(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        var which = op->Aux;
        var v = which == 6 ? default : F80.Constant(Constants[which].Sig, Constants[which].Exp, c.X87.Control);
        c.X87Push(v, 0);
        return 0;
    }

    private static int Fbld(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        var ea = c.Ea(op);
        var lo = c.Read64(ea);
        var hi = c.Read16(ea + 8);
        long v = 0;
        for (var i = 8; i >= 0; i--)
        {
            var b = (int)(i == 8 ? hi & 0xFFu : (uint)(lo >> (8 * i)) & 0xFFu);
            v = (v * 100) + ((b >> 4) * 10) + (b & 15);
        }

        var r = F80.FromInt(v);
        if ((hi & 0x8000) != 0)
        {
            r = F80.Negate(r);
        }

        c.X87Note(op->Rip);
        c.X87NoteMem(op, ea);
        c.X87Push(r, 0);
        return 0;
    }

    // ---------------------------------------------------------------- stores

    private static int FstSt(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        Float80 v;
        if (c.StEmpty(0))
        {
            if (!c.X87Underflow())
            {
                return 0;
            }

            v = Float80.Indefinite;
        }
        else
        {
            c.X87Commit(0);
            v = c.St(0);
        }

        c.X87Set(op->R1, v);
        if (op->Aux != 0)
        {
            c.X87Pop();
        }

        return 0;
    }

    private static int FstM32(CpuState c, Op* op) => StoreIeee(c, op, 23, 8);

    private static int FstM64(CpuState c, Op* op) => StoreIeee(c, op, 52, 11);

    private static int StoreIeee(CpuState c, Op* op, int fracBits, int expBits)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        var ea = c.Ea(op);
        ulong bits;
        uint f = 0;
        if (c.StEmpty(0))
        {
            f = F80.IE | F80.SF;
            bits = fracBits == 23 ? 0xFFC0_0000 : 0xFFF8_0000_0000_0000;
        }
        else
        {
            bits = F80.ToIeee(c.St(0), fracBits, expBits, c.X87.Control, ref f);
        }

        c.X87Note(op->Rip);
        c.X87NoteMem(op, ea);
        if ((f & ~c.X87.Control & (F80.IE | F80.OE | F80.UE)) != 0)
        {
            c.X87Commit(f);
            return 0;
        }

        if (fracBits == 23)
        {
            c.Write32(ea, (uint)bits);
        }
        else
        {
            c.Write64(ea, bits);
        }

        c.X87Commit(f);
        if (op->Aux != 0)
        {
            c.X87Pop();
        }

        return 0;
    }

    private static int FstM80(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        var ea = c.Ea(op);
        c.X87Note(op->Rip);
        c.X87NoteMem(op, ea);
        Float80 v;
        if (c.StEmpty(0))
        {
            if ((c.X87.Control & F80.IE) == 0)
            {
                c.X87Commit(F80.IE | F80.SF);
                return 0;
            }

            v = Float80.Indefinite;
        }
        else
        {
            v = c.St(0);
        }

        c.Write8(ea + 9, 0);
        c.Write64(ea, v.Significand);
        c.Write16(ea + 8, v.SignExponent);
        c.X87Commit(c.StEmpty(0) ? F80.IE | F80.SF : 0);
        c.X87Pop();
        return 0;
    }

    private static int FistM16(CpuState c, Op* op) => StoreInt(c, op, 16);

    private static int FistM32(CpuState c, Op* op) => StoreInt(c, op, 32);

    private static int FistM64(CpuState c, Op* op) => StoreInt(c, op, 64);

    /// <summary>FIST (Aux 0), FISTP (1), FISTTP (3: truncating, popping).</summary>
    private static int StoreInt(CpuState c, Op* op, int bits)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        var ea = c.Ea(op);
        long v;
        uint f = 0;
        if (c.StEmpty(0))
        {
            f = F80.IE | F80.SF;
            v = long.MinValue >> (64 - bits);
        }
        else
        {
            v = F80.ToInt(c.St(0), bits, op->Aux == 3, c.X87.Control, ref f);
        }

        c.X87Note(op->Rip);
        c.X87NoteMem(op, ea);
        if ((f & ~c.X87.Control & F80.IE) != 0)
        {
            c.X87Commit(f);
            return 0;
        }

        switch (bits)
        {
            case 16:
                c.Write16(ea, (ushort)v);
                break;
            case 32:
                c.Write32(ea, (uint)v);
                break;
            default:
                c.Write64(ea, (ulong)v);
                break;
        }

        c.X87Commit(f);
        if (op->Aux != 0)
        {
            c.X87Pop();
        }

        return 0;
    }

    private static int Fbstp(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        var ea = c.Ea(op);
        uint f = 0;
        long v = 0;
        var neg = false;
        var invalid = true;
        if (c.StEmpty(0))
        {
            f = F80.IE | F80.SF;
        }
        else
        {
            var x = c.St(0);
            neg = x.Negative;
            v = F80.ToInt(x, 64, false, c.X87.Control, ref f);
            invalid = (f & F80.IE) != 0 || v > 999_999_999_999_999_999 || v < -999_999_999_999_999_999;
            if (invalid)
            {
                f = (f & ~(F80.PE | F80.C1)) | F80.IE;
            }
        }

        c.X87Note(op->Rip);
        c.X87NoteMem(op, ea);
        if ((f & ~c.X87.Control & F80.IE) != 0)
        {
            c.X87Commit(f);
            return 0;
        }

        ulong lo = 0;
        ushort hi;
        if (invalid)
        {
            lo = 0xC000_0000_0000_0000;
            hi = 0xFFFF;
        }
        else
        {
            var mag = (ulong)Math.Abs(v);
            for (var i = 0; i < 8; i++)
            {
                var d = mag % 100;
                mag /= 100;
                lo |= (((d / 10) << 4) | (d % 10)) << (8 * i);
            }

            hi = (ushort)((((mag / 10) << 4) | (mag % 10)) | (neg ? 0x8000u : 0));
        }

        c.Write8(ea + 9, 0);
        c.Write64(ea, lo);
        c.Write16(ea + 8, hi);
        c.X87Commit(f);
        c.X87Pop();
        return 0;
    }

    // ---------------------------------------------------------------- register moves

    private static int Fxch(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        int i = op->R1;
        if (X87.Empty(c, 0, i))
        {
            if (!c.X87Underflow())
            {
                return 0;
            }

            if (c.StEmpty(0))
            {
                c.X87Set(0, Float80.Indefinite);
            }

            if (c.StEmpty(i))
            {
                c.X87Set(i, Float80.Indefinite);
            }
        }
        else
        {
            c.X87Commit(0);
        }

        (c.St(0), c.St(i)) = (c.St(i), c.St(0));
        return 0;
    }

    private static int Fcmov(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        if (X87.Empty(c, 0, op->R1))
        {
            if (c.X87Underflow())
            {
                c.X87Set(0, Float80.Indefinite);
            }

            return 0;
        }

        c.X87Commit(0);
        if (c.Condition(op->Aux))
        {
            c.X87Set(0, c.St(op->R1));
        }

        return 0;
    }

    private static int Ffree(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        c.X87.Tags &= (byte)~(1 << ((c.X87.Top + op->R1) & 7));
        if (op->Aux != 0)
        {
            c.X87Pop();
        }

        return 0;
    }

    private static int Fincstp(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        c.X87Commit(0);
        c.X87.Top = (c.X87.Top + 1) & 7;
        return 0;
    }

    private static int Fdecstp(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        c.X87Commit(0);
        c.X87.Top = (c.X87.Top - 1) & 7;
        return 0;
    }

    private static int Fnop(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        return 0;
    }
}
