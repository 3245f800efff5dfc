using Iced.Intel;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace UserModeOS.Cpu.Tests;

/// <summary>RDRAND and RDSEED: CF = 1, the other flags clear, register-size writes, and values that differ.</summary>
[TestFixture]
public sealed class RandomTests
{
    private const ulong Initial = 0x1111_2222_3333_4444;

    private static readonly (string Name, Action<Assembler> Code, int Bits)[] Forms =
    [
        ("rdrand ax", a => a.rdrand(ax), 16),
        ("rdrand eax", a => a.rdrand(eax), 32),
        ("rdrand rax", a => a.rdrand(rax), 64),
        ("rdseed ax", a => a.rdseed(ax), 16),
        ("rdseed eax", a => a.rdseed(eax), 32),
        ("rdseed rax", a => a.rdseed(rax), 64),
    ];

    private static IEnumerable<TestCaseData> FormCases() => Forms.Select(f => new TestCaseData(f.Code, f.Bits).SetName(f.Name));

    [TestCaseSource(nameof(FormCases))]
    public void SetsCarry_ClearsOtherFlags_WritesItsWidth(Action<Assembler> code, int bits)
    {
        var seen = new HashSet<ulong>();
        for (var run = 0; run < 8; run++)
        {
            var cpu = Cases.RunAlone(Cases.Assemble(code), c =>
            {
                c[Reg.Rax] = Initial;
                c.Rflags = 0x8D4; // every arithmetic flag but CF
            });
            var rax = cpu[Reg.Rax];
            Assert.Multiple(() =>
            {
                Assert.That(cpu.Exit, Is.EqualTo(ExitReason.GeneralProtection), "ran to the hlt");
                Assert.That(cpu.Rflags & 0x8D5, Is.EqualTo(1UL), "CF=1, OF SF ZF AF PF clear");
                if (bits == 16)
                {
                    Assert.That(rax >> 16, Is.EqualTo(Initial >> 16), "a 16-bit write keeps bits 63:16");
                }
                else if (bits == 32)
                {
                    Assert.That(rax >> 32, Is.Zero, "a 32-bit write zero-extends");
                }
            });
            seen.Add(rax);
        }

        // 8 draws of 16 bits or more: a repeat is possible only for the 16-bit forms, and even there all-equal is not.
        Assert.That(seen.Count, bits == 16 ? Is.GreaterThan(1) : Is.EqualTo(8));
    }

    [Test]
    public void ConsecutiveValues_Differ()
    {
        var cpu = Cases.RunAlone(Cases.Assemble(a =>
        {
            for (var i = 0; i < 6; i++)
            {
                a.rdrand(rax);
                a.mov(__qword_ptr[rsp - (8 * (i + 1))], rax);
            }

            a.rdseed(rcx);
            a.rdseed(rdx);
            a.rdrand(rsi);
            a.rdseed(rdi);
        }), c => c[Reg.Rsp] = 0x20_1000, m => m.MapPage(0x20_0000, Memory.PageProt.Read | Memory.PageProt.Write, new byte[4096]));
        Assert.That(cpu.Exit, Is.EqualTo(ExitReason.GeneralProtection));
        var values = new List<ulong> { cpu[Reg.Rax], cpu[Reg.Rcx], cpu[Reg.Rdx], cpu[Reg.Rsi], cpu[Reg.Rdi] };
        var stack = new byte[48];
        Assert.That(cpu.Memory.TryRead(0x20_1000 - 48, stack), Is.True);
        for (var i = 1; i < 6; i++)
        {
            // The first five draws (the sixth is still in RAX).
            values.Add(BitConverter.ToUInt64(stack, 8 * i));
        }

        Assert.That(values.Distinct().Count(), Is.EqualTo(values.Count), string.Join(" ", values.Select(v => v.ToString("X16"))));

        // Another CPU (a forked child, say) does not repeat this one's values.
        var other = Cases.RunAlone(Cases.Assemble(a => a.rdrand(rax)));
        Assert.That(values, Does.Not.Contain(other[Reg.Rax]));
    }

    [Test]
    public void ManyDraws_RefillThePool_AndLookRandom()
    {
        // More draws than one pool holds; every bit position must take both values.
        var cpu = Cases.RunAlone(Cases.Assemble(a =>
        {
            var loop = a.CreateLabel();
            a.mov(ecx, 1000);
            a.xor(r8, r8);
            a.mov(r9, -1L);
            a.Label(ref loop);
            a.rdrand(rax);
            a.or(r8, rax);
            a.and(r9, rax);
            a.dec(ecx);
            a.jnz(loop);
        }));
        Assert.Multiple(() =>
        {
            Assert.That(cpu[Reg.R8], Is.EqualTo(ulong.MaxValue), "every bit was set at least once");
            Assert.That(cpu[Reg.R9], Is.Zero, "every bit was clear at least once");
        });
    }

    [Test]
    public void RdrandAndRdseed_AreAdvertised()
    {
        Assert.Multiple(() =>
        {
            Assert.That(CpuFeatures.Missing(CpuidFeature.RDRAND), Is.Empty);
            Assert.That(CpuFeatures.Missing(CpuidFeature.RDSEED), Is.Empty);
            Assert.That(CpuFeatures.Query(1, 0).Ecx & (1u << 30), Is.Not.Zero, "RDRAND");
            Assert.That(CpuFeatures.Query(7, 0).Ebx & (1u << 18), Is.Not.Zero, "RDSEED");
        });
    }
}
