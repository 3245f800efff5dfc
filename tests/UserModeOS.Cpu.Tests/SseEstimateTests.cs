using System.Numerics;
using System.Text;
using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Instructions;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>
/// RCPPS/RCPSS/RSQRTPS/RSQRTSS and MASKMOVDQU. The estimates differ in their low bits between
/// CPU vendors, so their result lanes are checked against the SDM's contract on both the host
/// and the executor (relative error at most 1.5·2^-12, exact special cases) instead of bit for
/// bit; everything else they leave behind must match the host exactly.
/// </summary>
[TestFixture]
public sealed class SseEstimateTests
{
    /// <summary>|relative error| ≤ 1.5·2^-12 (SDM, RCPPS/RSQRTPS).</summary>
    private static readonly double Bound = 1.5 * Math.ScaleB(1.0, -12);

    /// <summary>Default, round up, toward zero, DAZ, FTZ, DAZ|FTZ: the estimates ignore rounding control.</summary>
    private static readonly uint[] Modes = [0x1F80, 0x5F80, 0x7F80, 0x1FC0, 0x9F80, 0x9FC0];

    private static readonly uint[] Specials =
    [
        0x0000_0000, 0x8000_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0xFFC0_0000, 0x7FA0_0001, 0xFF80_0001, 0x7FC1_2345,
        0x0000_0001, 0x8000_0001, 0x007F_FFFF, 0x807F_FFFF, 0x0040_0000, 0x0020_0000,
        0x0080_0000, 0x8080_0000, 0x0080_0001, 0x7F7F_FFFF, 0xFF7F_FFFF, 0x3F80_0000, 0xBF80_0000, 0x4000_0000, 0x4080_0000,
        0x3F7F_FFFF, 0x3F80_0001, 0x3FFF_FFFF, 0x3EAA_AAAB, 0x3DCC_CCCD, 0x4049_0FDB, 0xC049_0FDB,

        // Around 2^126, where RCP results become tiny (flushed to zero) on some implementations.
        0x7E7F_FFFF, 0x7E80_0000, 0x7E80_0001, 0x7E80_0C01, 0x7E80_0C02, 0x7E7F_E800, 0x7E7F_E7FF, 0x7EFF_FFFF, 0xFE80_0001, 0xFE7F_FFFF,
    ];

    private static List<uint> Inputs()
    {
        var values = new List<uint>(Specials);
        var rng = new Random(1212);
        for (var i = 0; i < 600; i++)
        {
            // Every exponent, random significands and signs.
            var exp = (uint)rng.Next(1, 255);
            values.Add(((uint)rng.Next() & 0x807F_FFFF) | (exp << 23));
        }

        // Significands near the ends of a binade, where table lookups change entries.
        for (var m = 0u; m < 16; m++)
        {
            values.Add(0x3F80_0000 + m);
            values.Add(0x3FFF_FFFF - m);
            values.Add(0x4000_0000 + (m << 19));
        }

        while (values.Count % 4 != 0)
        {
            values.Add(0x3F80_0000);
        }

        return values;
    }

    private static UInt128 Pack(IReadOnlyList<uint> v, int at) =>
        v[at] | ((UInt128)v[at + 1] << 32) | ((UInt128)v[at + 2] << 64) | ((UInt128)v[at + 3] << 96);

    [Test]
    public void Estimates_AreWithinTheSdmBound_OnHostAndExecutor([Values("rcp", "rsqrt")] string op, [ValueSource(nameof(Modes))] uint mxcsr)
    {
        var rsqrt = op == "rsqrt";
        var ps = rsqrt ? Code.Rsqrtps_xmm_xmmm128 : Code.Rcpps_xmm_xmmm128;
        var ss = rsqrt ? Code.Rsqrtss_xmm_xmmm32 : Code.Rcpss_xmm_xmmm32;
        var inputs = Inputs();
        var cases = new List<(DiffCase Case, UInt128 Src, bool Scalar)>();
        for (var i = 0; i < inputs.Count; i += 4)
        {
            var src = Pack(inputs, i);
            cases.Add((SseKit.Case($"{op}ps xmm3, xmm7 {src:X32}", SseKit.Emit(Instruction.Create(ps, Register.XMM3, Register.XMM7)), xmm: [(7, src)], mxcsr: mxcsr), src, false));
            cases.Add((SseKit.Case($"{op}ss xmm3, xmm7 {src:X32}", SseKit.Emit(Instruction.Create(ss, Register.XMM3, Register.XMM7)), xmm: [(7, src)], mxcsr: mxcsr), src, true));
        }

        // Memory forms: an aligned m128 and a misaligned m32 (scalar loads need no alignment).
        var mem = Pack(inputs, 40);
        var scratch = SseKit.ScratchWith(0, 0, mem);
        cases.Add((SseKit.Case($"{op}ps xmm3, [rbx+0x20]", SseKit.Emit(Instruction.Create(ps, Register.XMM3, new MemoryOperand(Register.RBX, 0x20))), scratch: scratch, mxcsr: mxcsr), mem, false));
        cases.Add((SseKit.Case($"{op}ss xmm3, [rbx+0x20]", SseKit.Emit(Instruction.Create(ss, Register.XMM3, new MemoryOperand(Register.RBX, 0x20))), scratch: scratch, mxcsr: mxcsr), (uint)mem, true));
        cases.Add((SseKit.Case($"{op}ss xmm3, [rbx+0x24]", SseKit.Emit(Instruction.Create(ss, Register.XMM3, new MemoryOperand(Register.RBX, 0x24))), scratch: scratch, mxcsr: mxcsr), (uint)(mem >> 32), true));

        // Source and destination the same register.
        var same = Pack(inputs, 0);
        cases.Add((SseKit.Case($"{op}ps xmm3, xmm3", SseKit.Emit(Instruction.Create(ps, Register.XMM3, Register.XMM3)), xmm: [(3, same)], mxcsr: mxcsr), same, false));

        var results = RunBoth(cases.Select(c => c.Case));
        var failures = new StringBuilder();
        var failed = 0;
        var checkedLanes = 0;
        var bitDifferences = 0;
        for (var i = 0; i < cases.Count; i++)
        {
            var (c, src, scalar) = cases[i];
            var (native, emulated) = results[i];
            var diff = new StringBuilder();
            CompareAllBut(c, native, emulated, xmm: 3, diff);
            var lanes = scalar ? 1 : 4;
            for (var l = 0; l < 4; l++)
            {
                var x = (uint)(src >> (32 * l));
                var n = (uint)(native.Xmm[3] >> (32 * l));
                var e = (uint)(emulated.Xmm[3] >> (32 * l));
                if (l >= lanes)
                {
                    // RCPSS/RSQRTSS keep the destination's upper lanes.
                    if (n != e)
                    {
                        diff.Append($"  XMM3 lane {l} (kept): native 0x{n:X8}, emulated 0x{e:X8}\n");
                    }

                    continue;
                }

                checkedLanes++;
                bitDifferences += n != e ? 1 : 0;
                foreach (var (who, r) in new[] { ("native", n), ("emulated", e) })
                {
                    if (Violation(rsqrt, x, r) is { } why)
                    {
                        diff.Append($"  lane {l}: {op}(0x{x:X8}) {who} 0x{r:X8}: {why}\n");
                    }
                }
            }

            if (diff.Length > 0 && ++failed <= 20)
            {
                failures.Append($"case '{c.Name}':\n").Append(diff);
            }
        }

        TestContext.Out.WriteLine($"{op}: {checkedLanes} lanes checked, {bitDifferences} differ in their bits from the host's estimate");
        Assert.That(failed, Is.Zero, $"{failed} of {cases.Count} cases fail:\n{failures}");
    }

    /// <summary>Why <paramref name="r"/> is not an SDM-conforming estimate of the operation on <paramref name="x"/>, or null.</summary>
    private static string? Violation(bool rsqrt, uint x, uint r)
    {
        const uint sign = 0x8000_0000, inf = 0x7F80_0000;
        var abs = x & ~sign;
        uint? exact = null;
        if (abs > inf)
        {
            exact = x | 0x0040_0000;
        }
        else if (abs < 0x0080_0000)
        {
            // Zero, and denormals read as zero.
            exact = (x & sign) | inf;
        }
        else if (rsqrt && (x & sign) != 0)
        {
            exact = 0xFFC0_0000;
        }
        else if (abs == inf)
        {
            exact = x & sign;
        }

        if (exact is { } want)
        {
            return r == want ? null : $"expected exactly 0x{want:X8}";
        }

        var f = (double)BitConverter.UInt32BitsToSingle(x);
        var reference = rsqrt ? 1.0 / Math.Sqrt(f) : 1.0 / f;
        var result = (double)BitConverter.UInt32BitsToSingle(r);

        // Tiny RCP results are flushed to zero; between these limits the SDM lets either happen.
        if (!rsqrt && abs >= 0x7E7F_E800 && (r & ~sign) == 0)
        {
            return r == (x & sign) ? null : "a flushed result must keep the source's sign";
        }

        if (!rsqrt && abs >= 0x7E80_0C01)
        {
            return "a tiny result must be flushed to zero";
        }

        if ((r & 0x7F80_0000) == 0 || (r & 0x7F80_0000) == inf)
        {
            return "expected a normal finite estimate";
        }

        var error = Math.Abs((result - reference) / reference);
        return error <= Bound ? null : $"relative error {error:E3} > {Bound:E3}";
    }

    /// <summary>Everything but one XMM register must match bit for bit.</summary>
    private static void CompareAllBut(DiffCase c, CpuSnapshot native, CpuSnapshot emulated, int xmm, StringBuilder diff)
    {
        if (!emulated.Finished)
        {
            diff.Append($"  emulated run stopped early: {emulated.Exit}\n");
            return;
        }

        for (var g = 0; g < 16; g++)
        {
            if (native.Gpr[g] != emulated.Gpr[g])
            {
                diff.Append($"  {(Reg)g}: native 0x{native.Gpr[g]:X16}, emulated 0x{emulated.Gpr[g]:X16}\n");
            }
        }

        if (((native.Rflags ^ emulated.Rflags) & c.FlagsMask) != 0)
        {
            diff.Append($"  RFLAGS: native 0x{native.Rflags & c.FlagsMask:X}, emulated 0x{emulated.Rflags & c.FlagsMask:X}\n");
        }

        for (var x = 0; x < 16; x++)
        {
            if (x != xmm && native.Xmm[x] != emulated.Xmm[x])
            {
                diff.Append($"  XMM{x}: native 0x{native.Xmm[x]:X32}, emulated 0x{emulated.Xmm[x]:X32}\n");
            }
        }

        if (native.Mxcsr != emulated.Mxcsr)
        {
            diff.Append($"  MXCSR: native 0x{native.Mxcsr:X8}, emulated 0x{emulated.Mxcsr:X8} (the estimates raise no exceptions)\n");
        }

        var initial = InitialScratch(c);
        if (!(native.Scratch ?? initial).AsSpan().SequenceEqual(emulated.Scratch ?? initial))
        {
            diff.Append("  the scratch page differs\n");
        }
    }

    [Test]
    public void PackedEstimates_FaultOnMisalignedMemory([Values("rcpps", "rsqrtps")] string op)
    {
        var code = op == "rcpps" ? Code.Rcpps_xmm_xmmm128 : Code.Rsqrtps_xmm_xmmm128;
        SseKit.AssertGeneralProtection(SseKit.Case($"{op} xmm3, [rbx+0x28]", SseKit.Emit(Instruction.Create(code, Register.XMM3, new MemoryOperand(Register.RBX, 0x28)))));
    }

    /// <summary>The executor's estimates are the exactly rounded values: checked with exact integer arithmetic.</summary>
    [Test]
    public void ExecutorEstimates_AreExactlyRounded()
    {
        var rng = new Random(77);
        var inputs = Enumerable.Range(0, 200_000).Select(_ => ((uint)rng.Next(1, 255) << 23) | ((uint)rng.Next() & 0x007F_FFFF))
            .Concat(Enumerable.Range(0, 4096).Select(i => 0x3F80_0000u + (uint)i))
            .Concat(Enumerable.Range(0, 4096).Select(i => 0x4000_0000u - 1 - (uint)i))
            .Concat([0x0080_0000u, 0x7E80_0000u, 0x7F7F_FFFFu]);
        var wrong = new List<string>();
        foreach (var x in inputs)
        {
            var rcp = SseEstimates.Reciprocal(x);
            if (x <= 0x7E80_0000 && !IsNearest(x, rcp, sqrt: false))
            {
                wrong.Add($"rcp 0x{x:X8} -> 0x{rcp:X8}");
            }

            var rsq = SseEstimates.ReciprocalSqrt(x);
            if (!IsNearest(x, rsq, sqrt: true))
            {
                wrong.Add($"rsqrt 0x{x:X8} -> 0x{rsq:X8}");
            }

            if (SseEstimates.Reciprocal(x | 0x8000_0000) != (rcp | 0x8000_0000))
            {
                wrong.Add($"rcp of -0x{x:X8} is not the negated rcp");
            }
        }

        Assert.That(wrong, Is.Empty, string.Join("\n", wrong.Take(20)));
    }

    /// <summary>
    /// True when y (positive normal) is the nearest single to 1/x or 1/√x: the exact value lies
    /// strictly between the midpoints below and above y (ties cannot occur).
    /// </summary>
    private static bool IsNearest(uint x, uint y, bool sqrt)
    {
        var (mx, ex) = Decompose(x);
        var (my, ey) = Decompose(y);

        // Midpoints (2·my ∓ 1)·2^(ey-1); the one below a power of two is a quarter ulp away.
        var lowNum = my == 1u << 23 ? (4 * (BigInteger)my) - 1 : (2 * (BigInteger)my) - 1;
        var lowExp = my == 1u << 23 ? ey - 2 : ey - 1;
        return Compare(lowNum, lowExp, mx, ex, sqrt) < 0 && Compare((2 * (BigInteger)my) + 1, ey - 1, mx, ex, sqrt) > 0;
    }

    /// <summary>Sign of m·2^e·x - 1 (reciprocal) or (m·2^e)²·x - 1 (reciprocal square root), x = mx·2^ex.</summary>
    private static int Compare(BigInteger m, int e, BigInteger mx, int ex, bool sqrt)
    {
        var num = sqrt ? m * m * mx : m * mx;
        var exp = sqrt ? (2 * e) + ex : e + ex;
        return exp >= 0 ? (num << exp).CompareTo(BigInteger.One) : num.CompareTo(BigInteger.One << -exp);
    }

    private static (uint Mantissa, int Exponent) Decompose(uint bits)
    {
        var biased = (int)(bits >> 23) & 0xFF;
        return ((bits & 0x007F_FFFF) | (1u << 23), biased - 127 - 23);
    }

    [Test]
    public void Maskmovdqu_StoresTheSelectedBytes()
    {
        var data = SseKit.X(0x0F1E_2D3C_4B5A_6978, 0x8796_A5B4_C3D2_E1F0);
        var masks = new UInt128[]
        {
            UInt128.MaxValue, 0, SseKit.X(0x8080_8080_8080_8080, 0x8080_8080_8080_8080), SseKit.X(0x7F7F_7F7F_7F7F_7F7F, 0x7F7F_7F7F_7F7F_7F7F),
            SseKit.X(0x8000_0000_0000_0000, 0), SseKit.X(0, 0x80), SseKit.X(0x00FF_00FF_00FF_00FF, 0xFF00_FF00_FF00_FF00),
            SseKit.X(0x1234_5678_9ABC_DEF0, 0xFEDC_BA98_7654_3210), SseKit.X(0, 0xFFFF_FFFF_FFFF_FFFF), SseKit.X(0xC0C0_0000_0000_0000, 0x0000_0000_0000_C0C0),
        };
        var cases = new List<DiffCase>();
        foreach (var mask in masks)
        {
            foreach (var offset in new ulong[] { 0x40, 0x123, 0xFF0 })
            {
                var rdi = new[] { (Register.RDI, ScratchAddress + offset) };
                cases.Add(SseKit.Case($"maskmovdqu xmm1, xmm2 [0x{offset:X}] mask {mask:X32}", a => a.maskmovdqu(xmm1, xmm2), xmm: [(1, data), (2, mask)], gpr: rdi));
            }

            // The mask register as the data too, and a high register pair.
            cases.Add(SseKit.Case($"maskmovdqu xmm2, xmm2 mask {mask:X32}", a => a.maskmovdqu(xmm2, xmm2), xmm: [(2, mask)], gpr: [(Register.RDI, ScratchAddress + 0x200)]));
            cases.Add(SseKit.Case($"maskmovdqu xmm14, xmm9 mask {mask:X32}", a => a.maskmovdqu(xmm14, xmm9), xmm: [(9, mask)], gpr: [(Register.RDI, ScratchAddress + 0x301)]));
        }

        var m = SseKit.X(0x8000_FF00_7F80_0180, 0x00FF_8001_0080_FF00);

        // 67h: EDI, the upper half of RDI ignored; an FS override (FS base is 0 in the harness).
        cases.Add(SseKit.Case("addr32 maskmovdqu xmm1, xmm2", SseKit.Emit(Instruction.CreateMaskmovdqu(32, Register.XMM1, Register.XMM2)), xmm: [(1, data), (2, m)], gpr: [(Register.RDI, 0xFFFF_FFFF_0000_0000 | (ScratchAddress + 0x80))]));
        cases.Add(SseKit.Case("fs: maskmovdqu xmm1, xmm2", SseKit.Emit(Instruction.CreateMaskmovdqu(64, Register.XMM1, Register.XMM2, Register.FS)), xmm: [(1, data), (2, m)], gpr: [(Register.RDI, ScratchAddress + 0x90)]));
        cases.Add(SseKit.Case("maskmovdqu then sfence", a =>
        {
            a.maskmovdqu(xmm1, xmm2);
            a.sfence();
        }, xmm: [(1, data), (2, m)], gpr: [(Register.RDI, ScratchAddress + 0x400)], flags: 0x8D5));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Maskmovdqu_FaultsOnAnUnmappedSelectedByte()
    {
        // The page after the scratch page is never mapped; only selected bytes are written.
        var c = SseKit.Case("maskmovdqu across the end of the scratch page", a => a.maskmovdqu(xmm1, xmm2),
            xmm: [(1, SseKit.X(0x1111_1111_1111_1111, 0x2222_2222_2222_2222)), (2, SseKit.X(0x8000_0000_0000_0000, 0x80))],
            gpr: [(Register.RDI, ScratchAddress + 0xFF8)]);
        var (signal, emulated, offset) = RunFaulting(c);
        Assert.Multiple(() =>
        {
            Assert.That(signal, Is.EqualTo(SseKit.SigSegv), "native signal");
            Assert.That(emulated, Is.EqualTo(ExitReason.PageFault), "emulated exit");
            Assert.That(offset, Is.EqualTo(0UL), "RIP must be the faulting instruction");
        });

        var state = RunEmulated(c);
        Assert.That(state.Scratch, Is.Null, "a faulting MASKMOVDQU writes nothing");
    }
}
