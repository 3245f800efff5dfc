using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Memory;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class AtomicTests
{
    private const ulong Stored = 0x8877_6655_4433_2211;

    [Test]
    public void Cmpxchg_AllSizes_SuccessAndFailure_RegisterAndMemory_MatchHost()
    {
        var cases = new List<DiffCase>();
        var scratch = Cases.ScratchWith(Stored);
        foreach (var equal in new[] { true, false })
        {
            var acc = equal ? Stored : 0xFFFF_0000_1234_0011UL;
            var tag = equal ? "equal" : "differ";
            (Reg, ulong)[] regs = [(Reg.Rax, acc), (Reg.Rdx, 0xAAAA_BBBB_CCCC_DDDD)];
            foreach (var locked in new[] { false, true })
            {
                var p = locked ? "lock " : "";
                cases.Add(Cases.Make($"{p}cmpxchg m8 {tag}", a => (locked ? a.@lock : a).cmpxchg(__byte_ptr[rbx], dl), scratch: scratch, regs: regs));
                cases.Add(Cases.Make($"{p}cmpxchg m16 {tag}", a => (locked ? a.@lock : a).cmpxchg(__word_ptr[rbx], dx), scratch: scratch, regs: regs));
                cases.Add(Cases.Make($"{p}cmpxchg m32 {tag}", a => (locked ? a.@lock : a).cmpxchg(__dword_ptr[rbx], edx), scratch: scratch, regs: regs));
                cases.Add(Cases.Make($"{p}cmpxchg m64 {tag}", a => (locked ? a.@lock : a).cmpxchg(__qword_ptr[rbx], rdx), scratch: scratch, regs: regs));
            }

            // Register destinations (RCX holds the stored value): which registers get written, and zero-extended.
            (Reg, ulong)[] rregs = [(Reg.Rax, acc), (Reg.Rcx, Stored), (Reg.Rdx, 0xAAAA_BBBB_CCCC_DDDD)];
            cases.Add(Cases.Make($"cmpxchg cl,dl {tag}", a => a.cmpxchg(cl, dl), regs: rregs));
            cases.Add(Cases.Make($"cmpxchg ch,dl {tag}", a => a.cmpxchg(ch, dl), regs: [(Reg.Rax, equal ? 0x22UL : 0x23UL), (Reg.Rcx, Stored), (Reg.Rdx, 0xDDUL)]));
            cases.Add(Cases.Make($"cmpxchg cx,dx {tag}", a => a.cmpxchg(cx, dx), regs: rregs));
            cases.Add(Cases.Make($"cmpxchg ecx,edx {tag}", a => a.cmpxchg(ecx, edx), regs: rregs));
            cases.Add(Cases.Make($"cmpxchg rcx,rdx {tag}", a => a.cmpxchg(rcx, rdx), regs: rregs));
            cases.Add(Cases.Make($"cmpxchg eax,edx {tag}", a => a.cmpxchg(eax, edx), regs: rregs));
            cases.Add(Cases.Make($"cmpxchg ecx,eax {tag}", a => a.cmpxchg(ecx, eax), regs: rregs));
        }

        // Flags of the comparison for ordered values.
        foreach (var (x, y) in new (ulong, ulong)[] { (1, 2), (2, 1), (0x80, 0x7F), (0x8000_0000_0000_0000, 1) })
        {
            cases.Add(Cases.Make($"cmpxchg flags {x:X} vs {y:X}", a => a.cmpxchg(__qword_ptr[rbx], rdx), scratch: Cases.ScratchWith(y), regs: (Reg.Rax, x)));
            cases.Add(Cases.Make($"cmpxchg8 flags {x:X} vs {y:X}", a => a.cmpxchg(__byte_ptr[rbx], dl), scratch: Cases.ScratchWith(y), regs: (Reg.Rax, x)));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Cmpxchg8b_Cmpxchg16b_SuccessAndFailure_MatchHost()
    {
        var scratch = Cases.ScratchWith(Stored, 0x0102_0304_0506_0708);
        var cases = new List<DiffCase>();
        foreach (var locked in new[] { false, true })
        {
            var p = locked ? "lock " : "";
            foreach (var flags in new ulong[] { 0, 0x8D5 })
            {
                cases.Add(Cases.Make($"{p}cmpxchg8b equal f={flags:X}", a => (locked ? a.@lock : a).cmpxchg8b(__qword_ptr[rbx]), flags: flags, scratch: scratch,
                    regs: [(Reg.Rax, 0xFFFF_FFFF_0000_0000UL | (Stored & 0xFFFF_FFFF)), (Reg.Rdx, 0x1234_5678_0000_0000UL | (Stored >> 32))]));
                cases.Add(Cases.Make($"{p}cmpxchg8b differ f={flags:X}", a => (locked ? a.@lock : a).cmpxchg8b(__qword_ptr[rbx]), flags: flags, scratch: scratch,
                    regs: [(Reg.Rax, 0xFFFF_FFFF_0000_0000UL | (Stored & 0xFFFF_FFFF)), (Reg.Rdx, 1)]));
                cases.Add(Cases.Make($"{p}cmpxchg16b equal f={flags:X}", a => (locked ? a.@lock : a).cmpxchg16b(__xmmword_ptr[rbx]), flags: flags, scratch: scratch,
                    regs: [(Reg.Rax, Stored), (Reg.Rdx, 0x0102_0304_0506_0708)]));
                cases.Add(Cases.Make($"{p}cmpxchg16b differ low f={flags:X}", a => (locked ? a.@lock : a).cmpxchg16b(__xmmword_ptr[rbx]), flags: flags, scratch: scratch,
                    regs: [(Reg.Rax, Stored + 1), (Reg.Rdx, 0x0102_0304_0506_0708)]));
                cases.Add(Cases.Make($"{p}cmpxchg16b differ high f={flags:X}", a => (locked ? a.@lock : a).cmpxchg16b(__xmmword_ptr[rbx]), flags: flags, scratch: scratch,
                    regs: [(Reg.Rax, Stored), (Reg.Rdx, 0)]));
            }
        }

        cases.Add(Cases.Make("cmpxchg8b unaligned", a => a.cmpxchg8b(__qword_ptr[rbx + 3]), scratch: scratch, regs: [(Reg.Rax, 0), (Reg.Rdx, 0)]));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Cmpxchg16b_Misaligned_IsGeneralProtection()
    {
        var (signal, emulated, offset) = RunFaulting(Cases.Make("cmpxchg16b [rbx+8]", a => a.cmpxchg16b(__xmmword_ptr[rbx + 8])));
        Assert.Multiple(() =>
        {
            Assert.That(signal, Is.EqualTo(11), "#GP is SIGSEGV on Linux");
            Assert.That(emulated, Is.EqualTo(ExitReason.GeneralProtection));
            Assert.That(offset, Is.EqualTo(0UL));
        });
    }

    [Test]
    public void Xadd_AllSizes_RegisterMemoryAndLock_MatchHost()
    {
        var cases = new List<DiffCase>();
        foreach (var (x, y) in new (ulong, ulong)[] { (1, 2), (0xFF, 1), (0x7FFF_FFFF, 1), (ulong.MaxValue, ulong.MaxValue), (0x8000_0000_0000_0000, 0x8000_0000_0000_0000) })
        {
            var scratch = Cases.ScratchWith(x);
            (Reg, ulong)[] regs = [(Reg.Rcx, x), (Reg.Rdx, y)];
            cases.Add(Cases.Make($"xadd cl,dl {x:X}+{y:X}", a => a.xadd(cl, dl), regs: regs));
            cases.Add(Cases.Make($"xadd cx,dx {x:X}+{y:X}", a => a.xadd(cx, dx), regs: regs));
            cases.Add(Cases.Make($"xadd ecx,edx {x:X}+{y:X}", a => a.xadd(ecx, edx), regs: regs));
            cases.Add(Cases.Make($"xadd rcx,rdx {x:X}+{y:X}", a => a.xadd(rcx, rdx), regs: regs));
            cases.Add(Cases.Make($"xadd rcx,rcx {x:X}", a => a.xadd(rcx, rcx), regs: regs));
            cases.Add(Cases.Make($"xadd ah,dh {x:X}", a => a.xadd(ah, dh), regs: regs));
            foreach (var locked in new[] { false, true })
            {
                var p = locked ? "lock " : "";
                cases.Add(Cases.Make($"{p}xadd m8 {x:X}+{y:X}", a => (locked ? a.@lock : a).xadd(__byte_ptr[rbx], dl), scratch: scratch, regs: regs));
                cases.Add(Cases.Make($"{p}xadd m16 {x:X}+{y:X}", a => (locked ? a.@lock : a).xadd(__word_ptr[rbx], dx), scratch: scratch, regs: regs));
                cases.Add(Cases.Make($"{p}xadd m32 {x:X}+{y:X}", a => (locked ? a.@lock : a).xadd(__dword_ptr[rbx], edx), scratch: scratch, regs: regs));
                cases.Add(Cases.Make($"{p}xadd m64 {x:X}+{y:X}", a => (locked ? a.@lock : a).xadd(__qword_ptr[rbx], rdx), scratch: scratch, regs: regs));
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void LockedOperations_FromManyGuestThreads_LoseNoUpdates()
    {
        // Four CPUs on one address space each do 20000 lock xadd and 20000 cmpxchg-loop
        // increments on shared counters; every update must survive.
        const ulong codeAt = 0x10_0000, data = 0x20_0000;
        const int threads = 4, iterations = 20000;
        var code = Cases.Assemble(a =>
        {
            var top = a.CreateLabel();
            var retry = a.CreateLabel();
            var retry16 = a.CreateLabel();
            a.Label(ref top);
            a.mov(edx, 1);
            a.@lock.xadd(__qword_ptr[rdi], rdx);
            a.mov(rax, __qword_ptr[rdi + 8]);
            a.Label(ref retry);
            a.lea(rdx, __qword_ptr[rax + 1]);
            a.@lock.cmpxchg(__qword_ptr[rdi + 8], rdx);
            a.jne(retry);

            // 128-bit counter at +16 (low) / +24 (high): increment the high half only.
            a.mov(rax, __qword_ptr[rdi + 16]);
            a.mov(rdx, __qword_ptr[rdi + 24]);
            a.Label(ref retry16);
            a.mov(rbx, rax);
            a.lea(rcx, __qword_ptr[rdx + 1]);
            a.@lock.cmpxchg16b(__xmmword_ptr[rdi + 16]);
            a.jne(retry16);
            a.dec(rsi);
            a.jnz(top);
            a.hlt();
        }, codeAt);
        var memory = new GuestMemory();
        var page = new byte[4096];
        code.CopyTo(page, 0);
        memory.MapPage(codeAt, PageProt.Read | PageProt.Exec, page);
        memory.MapPage(data, PageProt.Read | PageProt.Write, new byte[4096]);
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            var cpu = new CpuState(memory) { Rip = codeAt };
            cpu[Reg.Rdi] = data;
            cpu[Reg.Rsi] = iterations;
            cpu.Run();
            Assert.That(cpu.Exit, Is.EqualTo(ExitReason.GeneralProtection));
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        var counters = new byte[32];
        Assert.That(memory.TryRead(data, counters), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(BitConverter.ToUInt64(counters, 0), Is.EqualTo((ulong)(threads * iterations)), "lock xadd");
            Assert.That(BitConverter.ToUInt64(counters, 8), Is.EqualTo((ulong)(threads * iterations)), "lock cmpxchg");
            Assert.That(BitConverter.ToUInt64(counters, 24), Is.EqualTo((ulong)(threads * iterations)), "lock cmpxchg16b high half");
        });
    }
}
