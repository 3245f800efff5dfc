using System.Numerics;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>A condition code evaluated straight from the operands of a CMP or a TEST.</summary>
internal interface ICond
{
    /// <summary>The condition after CMP dst, src.</summary>
    static abstract bool AfterCmp<W>(ulong dst, ulong src)
        where W : IWidth;

    /// <summary>The condition after TEST (res = dst AND src; CF = OF = 0).</summary>
    static abstract bool AfterTest<W>(ulong res)
        where W : IWidth;
}

/// <summary>
/// Compare-and-branch fused into one op: CMP or TEST on registers or an immediate followed
/// by Jcc, the most common pair in compiled code. The flags are still recorded (a later
/// block may read them) but the branch is decided from the operands without them.
/// </summary>
internal static unsafe class Fused
{
    private const int CmpRR = 0, CmpRI = 1, TestRR = 2, TestRI = 3;

    /// <summary>Replaces <paramref name="first"/> with a fused op when the pair qualifies.</summary>
    public static bool TryFuse(in Instruction a, in Instruction b, ref Op first, in Op second)
    {
        if (b.FlowControl != FlowControl.ConditionalBranch || b.Op0Kind != OpKind.NearBranch64 ||
            b.Mnemonic is Mnemonic.Jrcxz or Mnemonic.Jecxz or Mnemonic.Loop or Mnemonic.Loope or Mnemonic.Loopne)
        {
            return false;
        }

        int form;
        if (a.Mnemonic == Mnemonic.Cmp)
        {
            form = CmpRR;
        }
        else if (a.Mnemonic == Mnemonic.Test)
        {
            form = TestRR;
        }
        else
        {
            return false;
        }

        if (a.Op0Kind != OpKind.Register)
        {
            return false;
        }

        var fused = new Op
        {
            Rip = first.Rip,
            Len = (byte)(first.Len + second.Len),
            R0 = Operands.Gpr(a.Op0Register),
            Disp = (long)b.NearBranch64,
            Base = RegSlot.Zero,
            Index = RegSlot.Zero,
            Seg = RegSlot.Zero,
        };
        switch (a.Op1Kind)
        {
            case OpKind.Register:
                fused.R1 = Operands.Gpr(a.Op1Register);
                break;
            case OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or OpKind.Immediate8to16 or
                OpKind.Immediate8to32 or OpKind.Immediate8to64 or OpKind.Immediate32to64:
                fused.Imm = (long)a.GetImmediate(1);
                form++;
                break;
            default:
                return false;
        }

        var cc = Branches.ConditionNibble(b);
        fused.Handler = a.Op0Register.GetSize() switch
        {
            1 => Pick<W8>(cc, form),
            2 => Pick<W16>(cc, form),
            4 => Pick<W32>(cc, form),
            8 => Pick<W64>(cc, form),
            _ => null,
        };
        if (fused.Handler == null)
        {
            return false;
        }

        first = fused;
        return true;
    }

    private static delegate*<CpuState, Op*, int> Pick<W>(int cc, int form)
        where W : IWidth => cc switch
        {
            0 => Forms<W, CcO>(form),
            1 => Forms<W, CcNo>(form),
            2 => Forms<W, CcB>(form),
            3 => Forms<W, CcAe>(form),
            4 => Forms<W, CcE>(form),
            5 => Forms<W, CcNe>(form),
            6 => Forms<W, CcBe>(form),
            7 => Forms<W, CcA>(form),
            8 => Forms<W, CcS>(form),
            9 => Forms<W, CcNs>(form),
            10 => Forms<W, CcP>(form),
            11 => Forms<W, CcNp>(form),
            12 => Forms<W, CcL>(form),
            13 => Forms<W, CcGe>(form),
            14 => Forms<W, CcLe>(form),
            _ => Forms<W, CcG>(form),
        };

    private static delegate*<CpuState, Op*, int> Forms<W, C>(int form)
        where W : IWidth
        where C : struct, ICond => form switch
        {
            CmpRR => &CmpRegJcc<W, C>,
            CmpRI => &CmpImmJcc<W, C>,
            TestRR => &TestRegJcc<W, C>,
            _ => &TestImmJcc<W, C>,
        };

    private static int CmpRegJcc<W, C>(CpuState c, Op* op)
        where W : IWidth
        where C : struct, ICond
    {
        var d = W.Get(c, op->R0);
        var s = W.Get(c, op->R1);
        c.SetFlags(FlagKind.Sub, W.SizeLog, d, s, (d - s) & W.Mask);
        c.Rip = C.AfterCmp<W>(d, s) ? (ulong)op->Disp : op->NextRip;
        return 1;
    }

    private static int CmpImmJcc<W, C>(CpuState c, Op* op)
        where W : IWidth
        where C : struct, ICond
    {
        var d = W.Get(c, op->R0);
        var s = (ulong)op->Imm & W.Mask;
        c.SetFlags(FlagKind.Sub, W.SizeLog, d, s, (d - s) & W.Mask);
        c.Rip = C.AfterCmp<W>(d, s) ? (ulong)op->Disp : op->NextRip;
        return 1;
    }

    private static int TestRegJcc<W, C>(CpuState c, Op* op)
        where W : IWidth
        where C : struct, ICond
    {
        var r = W.Get(c, op->R0) & W.Get(c, op->R1);
        c.SetFlags(FlagKind.Logic, W.SizeLog, 0, 0, r);
        c.Rip = C.AfterTest<W>(r) ? (ulong)op->Disp : op->NextRip;
        return 1;
    }

    private static int TestImmJcc<W, C>(CpuState c, Op* op)
        where W : IWidth
        where C : struct, ICond
    {
        var r = W.Get(c, op->R0) & (ulong)op->Imm & W.Mask;
        c.SetFlags(FlagKind.Logic, W.SizeLog, 0, 0, r);
        c.Rip = C.AfterTest<W>(r) ? (ulong)op->Disp : op->NextRip;
        return 1;
    }

    private static bool Sign<W>(ulong v)
        where W : IWidth => W.Sext(v) < 0;

    private static bool Parity(ulong v) => (BitOperations.PopCount(v & 0xFF) & 1) == 0;

    private static bool SubOverflow<W>(ulong d, ulong s)
        where W : IWidth => Sign<W>((d ^ s) & (d ^ (d - s)));

    private struct CcO : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => SubOverflow<W>(d, s);

        public static bool AfterTest<W>(ulong r) where W : IWidth => false;
    }

    private struct CcNo : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => !SubOverflow<W>(d, s);

        public static bool AfterTest<W>(ulong r) where W : IWidth => true;
    }

    private struct CcB : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => d < s;

        public static bool AfterTest<W>(ulong r) where W : IWidth => false;
    }

    private struct CcAe : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => d >= s;

        public static bool AfterTest<W>(ulong r) where W : IWidth => true;
    }

    private struct CcE : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => d == s;

        public static bool AfterTest<W>(ulong r) where W : IWidth => r == 0;
    }

    private struct CcNe : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => d != s;

        public static bool AfterTest<W>(ulong r) where W : IWidth => r != 0;
    }

    private struct CcBe : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => d <= s;

        public static bool AfterTest<W>(ulong r) where W : IWidth => r == 0;
    }

    private struct CcA : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => d > s;

        public static bool AfterTest<W>(ulong r) where W : IWidth => r != 0;
    }

    private struct CcS : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => Sign<W>(d - s);

        public static bool AfterTest<W>(ulong r) where W : IWidth => Sign<W>(r);
    }

    private struct CcNs : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => !Sign<W>(d - s);

        public static bool AfterTest<W>(ulong r) where W : IWidth => !Sign<W>(r);
    }

    private struct CcP : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => Parity(d - s);

        public static bool AfterTest<W>(ulong r) where W : IWidth => Parity(r);
    }

    private struct CcNp : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => !Parity(d - s);

        public static bool AfterTest<W>(ulong r) where W : IWidth => !Parity(r);
    }

    private struct CcL : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => W.Sext(d) < W.Sext(s);

        public static bool AfterTest<W>(ulong r) where W : IWidth => Sign<W>(r);
    }

    private struct CcGe : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => W.Sext(d) >= W.Sext(s);

        public static bool AfterTest<W>(ulong r) where W : IWidth => !Sign<W>(r);
    }

    private struct CcLe : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => W.Sext(d) <= W.Sext(s);

        public static bool AfterTest<W>(ulong r) where W : IWidth => r == 0 || Sign<W>(r);
    }

    private struct CcG : ICond
    {
        public static bool AfterCmp<W>(ulong d, ulong s) where W : IWidth => W.Sext(d) > W.Sext(s);

        public static bool AfterTest<W>(ulong r) where W : IWidth => r != 0 && !Sign<W>(r);
    }
}
