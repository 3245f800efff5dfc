using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>
/// Instructions whose flags are overwritten before anything reads them run in flag-free
/// forms: their results must still be exact, and the surviving flags must be the last writer's.
/// </summary>
public class FlagLivenessTests
{
    private static readonly (string Name, Action<Assembler> Code)[] DeadFlagOps =
    {
        ("add eax,ecx", a => a.add(eax, ecx)),
        ("add rax,-5", a => a.add(rax, -5)),
        ("sub ax,cx", a => a.sub(ax, cx)),
        ("and al,cl", a => a.and(al, cl)),
        ("or rax,[rbx+8]", a => a.or(rax, __qword_ptr[rbx + 8])),
        ("xor ecx,0x7fff0000", a => a.xor(ecx, 0x7fff0000)),
        ("inc eax", a => a.inc(eax)),
        ("dec rcx", a => a.dec(rcx)),
        ("dec ah", a => a.dec(ah)),
        ("neg rdx", a => a.neg(rdx)),
        ("neg dx", a => a.neg(dx)),
        ("shl eax,7", a => a.shl(eax, 7)),
        ("shr rcx,63", a => a.shr(rcx, 63)),
        ("sar edx,31", a => a.sar(edx, 31)),
        ("sar rdx,1", a => a.sar(rdx, 1)),
        ("rol eax,5", a => a.rol(eax, 5)),
        ("ror rcx,17", a => a.ror(rcx, 17)),
        ("imul eax,ecx", a => a.imul(eax, ecx)),
        ("imul rdx,[rbx],-3", a => a.imul(rdx, __qword_ptr[rbx], -3)),
        ("imul cx,dx,1000", a => a.imul(cx, dx, 1000)),
    };

    [Test]
    public void DeadFlagResultsAreStillExact()
    {
        var cases = new List<DiffCase>();
        foreach (var (name, code) in DeadFlagOps)
        {
            // Followed by a full flag writer: the first instruction's flags are dead.
            cases.Add(Cases.Make($"{name}; add", a =>
            {
                code(a);
                a.add(rsi, rdi);
            }));

            // Followed by a reader: the flags are live and must be the instruction's own.
            cases.Add(Cases.Make($"{name}; setc", a =>
            {
                code(a);
                a.setb(r8b);
                a.sete(r9b);
            }, flagsMask: 0));
        }

        // Rotates keep SF/ZF/PF: after `sub; rol` the zero flag is still sub's.
        cases.Add(Cases.Make("sub; rol; sete", a =>
        {
            a.sub(eax, eax);
            a.rol(ecx, 3);
            a.sete(dl);
        }));

        // A shift by CL may be by zero and keep the flags: the earlier add's flags stay live.
        cases.Add(Cases.Make("add; shl cl=0; setc", a =>
        {
            a.add(eax, ecx);
            a.shl(edx, cl);
            a.setb(r10b);
        }, regs: (Reg.Rcx, 0x100)));
        AssertSameAsHost(cases);
    }
}
