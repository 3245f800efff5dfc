using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>Effective addresses: the 67h prefix (32-bit address size) wraps at 4 GiB; FS overrides add the base after.</summary>
public class AddressingTests
{
    [Test]
    public void LeaWithAddressSizePrefixWrapsAt4GiB()
    {
        AssertSameAsHost(new[]
        {
            Cases.Make("lea edx,[ecx-1] ecx=0", a => a.lea(edx, __[ecx - 1]), regs: (Reg.Rcx, 0xFFFF_FFFF_0000_0000)),
            Cases.Make("lea edx,[ecx-1] ecx=5", a => a.lea(edx, __[ecx - 1]), regs: (Reg.Rcx, 0x1234_5678_0000_0005)),
            Cases.Make("lea rdx,[ecx+eax*8+16]", a => a.lea(rdx, __[ecx + eax * 8 + 16]), regs: new[] { (Reg.Rcx, 0xFFFF_FFF0UL), (Reg.Rax, 0x8000_0000UL) }),
            Cases.Make("lea edx,[eax+ecx*2-0x10]", a => a.lea(edx, __[eax + ecx * 2 - 0x10]), regs: new[] { (Reg.Rcx, 0x7UL), (Reg.Rax, 0x3UL) }),
        });
    }

    [Test]
    public void LoadThroughThirtyTwoBitAddress()
    {
        // The scratch page lies below 4 GiB, so a 32-bit base register reaches it.
        AssertSameAsHost(new[]
        {
            Cases.Make("mov eax,[ebx+8]", a => a.mov(eax, __dword_ptr[ebx + 8]), regs: (Reg.Rbx, 0xDEAD_0000_0000_0000 | ScratchAddress)),
            Cases.Make("add [ebx+ecx*4],edx", a => a.add(__dword_ptr[ebx + ecx * 4], edx), regs: new[] { (Reg.Rbx, 0x1_0000_0000UL | ScratchAddress), (Reg.Rcx, 3UL) }),
        });
    }
}
