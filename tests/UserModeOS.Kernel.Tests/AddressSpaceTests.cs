using UserModeOS.Cpu;
using UserModeOS.Cpu.Memory;
using UserModeOS.Kernel.Memory;

namespace UserModeOS.Kernel.Tests;

public class AddressSpaceTests
{
    private const ulong Page = AddressSpace.PageSize;

    [Test]
    public void FirstTouchOfAnAnonymousMappingReadsZeros()
    {
        using var mm = new AddressSpace();
        mm.MapFixed(0x10000, 4 * Page, PageProt.Read | PageProt.Write);
        Assert.That(mm.Memory.IsMapped(0x10000), Is.False, "pages are populated lazily");

        var buffer = new byte[16];
        Assert.That(mm.Memory.TryRead(0x10000 + Page, buffer), Is.True);
        Assert.That(buffer, Is.All.EqualTo(0));
        Assert.That(mm.Memory.ResidentPages, Is.EqualTo(1));
    }

    [Test]
    public void AccessOutsideAnyVmaFaults()
    {
        using var mm = new AddressSpace();
        mm.MapFixed(0x10000, Page, PageProt.Read);
        Assert.That(mm.Memory.TryRead(0x20000, new byte[1]), Is.False);
    }

    [Test]
    public void WriteToReadOnlyMappingFails()
    {
        using var mm = new AddressSpace();
        mm.MapFixed(0x10000, Page, PageProt.Read);
        Assert.That(mm.Memory.TryWrite(0x10000, new byte[] { 1 }), Is.False);
    }

    [Test]
    public void UnmapInTheMiddleSplitsTheVma()
    {
        using var mm = new AddressSpace();
        mm.MapFixed(0x10000, 3 * Page, PageProt.Read | PageProt.Write);
        mm.Memory.TryWrite(0x10000, new byte[] { 7 });
        mm.Unmap(0x10000 + Page, Page);

        var vmas = mm.Vmas();
        Assert.That(vmas.Select(v => (v.Start, v.End)), Is.EqualTo(new[]
        {
            (0x10000UL, 0x10000UL + Page),
            (0x10000UL + (2 * Page), 0x10000UL + (3 * Page)),
        }));
        Assert.That(mm.Memory.TryRead(0x10000 + Page, new byte[1]), Is.False);
        var b = new byte[1];
        Assert.That(mm.Memory.TryRead(0x10000, b), Is.True);
        Assert.That(b[0], Is.EqualTo(7));
    }

    [Test]
    public void ProtectOverAHoleIsEnomemAndChangesNothing()
    {
        using var mm = new AddressSpace();
        mm.MapFixed(0x10000, Page, PageProt.Read | PageProt.Write);
        mm.MapFixed(0x10000 + (2 * Page), Page, PageProt.Read | PageProt.Write);
        Assert.That(mm.Protect(0x10000, 3 * Page, PageProt.Read), Is.EqualTo(Errno.ENOMEM));
        Assert.That(mm.Vmas().All(v => v.Prot == (PageProt.Read | PageProt.Write)), Is.True);
    }

    [Test]
    public void ProtectSplitsAndRevokesWriteOnPresentPages()
    {
        using var mm = new AddressSpace();
        mm.MapFixed(0x10000, 2 * Page, PageProt.Read | PageProt.Write);
        Assert.That(mm.Memory.TryWrite(0x10000 + Page, new byte[] { 1 }), Is.True);
        Assert.That(mm.Protect(0x10000 + Page, Page, PageProt.Read), Is.EqualTo(Errno.None));
        Assert.That(mm.Vmas(), Has.Count.EqualTo(2));
        Assert.That(mm.Memory.TryWrite(0x10000 + Page, new byte[] { 2 }), Is.False);
        Assert.That(mm.Memory.TryWrite(0x10000, new byte[] { 2 }), Is.True);
    }

    [Test]
    public void FindFreePlacesMappingsTopDownWithoutOverlap()
    {
        using var mm = new AddressSpace();
        var a = mm.FindFree(4 * Page);
        mm.MapFixed(a, 4 * Page, PageProt.Read);
        var b = mm.FindFree(Page);
        mm.MapFixed(b, Page, PageProt.Read);
        Assert.That(a + (4 * Page), Is.EqualTo(AddressSpace.MmapTop));
        Assert.That(b + Page, Is.EqualTo(a));

        mm.Unmap(a, Page);
        Assert.That(mm.FindFree(Page), Is.EqualTo(a), "a freed hole is reused");
        Assert.That(mm.FindFree(2 * Page), Is.EqualTo(b - (2 * Page)), "a hole too small is skipped");
    }

    [Test]
    public void ForkIsCopyOnWriteInBothDirections()
    {
        using var parent = new AddressSpace();
        parent.MapFixed(0x10000, Page, PageProt.Read | PageProt.Write);
        parent.Memory.TryWrite(0x10000, new byte[] { 1 });

        using var child = parent.Fork();
        child.Memory.TryWrite(0x10000, new byte[] { 2 });
        parent.Memory.TryWrite(0x10001, new byte[] { 3 });

        var p = new byte[2];
        var c = new byte[2];
        parent.Memory.TryRead(0x10000, p);
        child.Memory.TryRead(0x10000, c);
        Assert.That(p, Is.EqualTo(new byte[] { 1, 3 }));
        Assert.That(c, Is.EqualTo(new byte[] { 2, 0 }));
    }

    [Test]
    public void GuestFaultIsReportedNotThrown()
    {
        using var mm = new AddressSpace();
        mm.MapFixed(0x10000, Page, PageProt.Read | PageProt.Exec);

        // mov rax, [0]  — a null dereference.
        mm.Memory.TryWriteInitial(0x10000, new byte[] { 0x48, 0x8B, 0x04, 0x25, 0, 0, 0, 0 });
        var cpu = new CpuState(mm.Memory) { Rip = 0x10000 };
        Assert.That(cpu.Run(), Is.EqualTo(ExitReason.PageFault));
        Assert.Multiple(() =>
        {
            Assert.That(cpu.FaultAddress, Is.EqualTo(0UL));
            Assert.That(cpu.FaultAccess, Is.EqualTo(AccessKind.Read));
            Assert.That(cpu.Rip, Is.EqualTo(0x10000UL), "RIP stays at the faulting instruction");
        });
    }
}
