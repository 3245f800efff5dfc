using System.Buffers.Binary;
using System.Text;
using UserModeOS.Kernel.Exec;
using UserModeOS.Kernel.Memory;

namespace UserModeOS.Kernel.Tests;

public class ElfTests
{
    /// <summary>A minimal static ET_EXEC: one R+X PT_LOAD at 0x400000 holding <c>exit(7)</c>.</summary>
    internal static byte[] MinimalElf()
    {
        var code = new byte[] { 0xB8, 60, 0, 0, 0, 0xBF, 7, 0, 0, 0, 0x0F, 0x05 };
        var b = new byte[64 + 56 + code.Length];
        b[0] = 0x7F;
        b[1] = (byte)'E';
        b[2] = (byte)'L';
        b[3] = (byte)'F';
        b[4] = 2;
        b[5] = 1;
        b[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(16), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(18), 62);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), 0x400000 + 120);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(32), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(52), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(54), 56);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(56), 1);
        var ph = b.AsSpan(64);
        BinaryPrimitives.WriteUInt32LittleEndian(ph, ProgramHeader.Load);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], ProgramHeader.Read | ProgramHeader.Execute);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], 0x400000);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], (ulong)b.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], (ulong)b.Length + 0x2000);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 0x1000);
        code.CopyTo(b, 120);
        return b;
    }

    [Test]
    public void MinimalElfParses()
    {
        var image = ElfImage.Parse(MinimalElf(), out var error);
        Assert.That(error, Is.Null);
        Assert.That(image!.Entry, Is.EqualTo(0x400000UL + 120));
        Assert.That(image.Interpreter, Is.Null);
    }

    [TestCase("not an ELF", "not an ELF file")]
    public void NonElfIsRejected(string text, string reason)
    {
        Assert.That(ElfImage.Parse(Encoding.ASCII.GetBytes(text), out var error), Is.Null);
        Assert.That(error, Is.EqualTo(reason));
    }

    [Test]
    public void TruncatedElfIsRejected()
    {
        var b = MinimalElf();
        Assert.That(ElfImage.Parse(b[..40], out var e1), Is.Null);
        Assert.That(e1, Does.Contain("truncated"));
        Assert.That(ElfImage.Parse(b[..100], out var e2), Is.Null);
        Assert.That(e2, Does.Contain("truncated"));
    }

    [Test]
    public void ThirtyTwoBitElfIsRejected()
    {
        var b = MinimalElf();
        b[4] = 1;
        Assert.That(ElfImage.Parse(b, out var error), Is.Null);
        Assert.That(error, Does.Contain("32-bit"));
    }

    [Test]
    public void ElfForAnotherMachineIsRejected()
    {
        var b = MinimalElf();
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(18), 183);
        Assert.That(ElfImage.Parse(b, out var error), Is.Null);
        Assert.That(error, Does.Contain("another machine"));
    }

    [Test]
    public void SegmentsAreMappedWithBssZeroedAndPermissionsApplied()
    {
        using var mm = new AddressSpace();
        var image = ElfImage.Parse(MinimalElf(), out _)!;
        var end = ProgramLoader.MapSegments(mm, image, 0);
        Assert.That(end, Is.EqualTo(0x403000UL));

        var code = new byte[12];
        Assert.That(mm.Memory.TryRead(0x400000 + 120, code), Is.True);
        Assert.That(code[0], Is.EqualTo(0xB8));
        var bss = new byte[16];
        Assert.That(mm.Memory.TryRead(0x401000, bss), Is.True);
        Assert.That(bss, Is.All.EqualTo(0));
        Assert.That(mm.Memory.TryWrite(0x400000, new byte[] { 1 }), Is.False, "the text segment is not writable");
    }

    [Test]
    public void InitialStackFollowsThePsAbi()
    {
        using var mm = new AddressSpace();
        var sp = ProgramLoader.BuildStack(mm, new ProgramLoader.StackInfo(
            new[] { "prog", "arg1" }, new[] { "A=1" }, "/bin/prog", 0x400040, 1, 0x400078, 0, 0x178BFBFF, 0, Credentials.Root));
        Assert.That(sp % 16, Is.EqualTo(0UL), "RSP is 16-byte aligned at argc");

        ulong Word(ulong address)
        {
            var b = new byte[8];
            Assert.That(mm.Memory.TryRead(address, b), Is.True);
            return BinaryPrimitives.ReadUInt64LittleEndian(b);
        }

        string Str(ulong address)
        {
            var bytes = new List<byte>();
            var b = new byte[1];
            while (mm.Memory.TryRead(address++, b) && b[0] != 0)
            {
                bytes.Add(b[0]);
            }

            return Encoding.UTF8.GetString(bytes.ToArray());
        }

        Assert.That(Word(sp), Is.EqualTo(2UL));
        Assert.That(Str(Word(sp + 8)), Is.EqualTo("prog"));
        Assert.That(Str(Word(sp + 16)), Is.EqualTo("arg1"));
        Assert.That(Word(sp + 24), Is.EqualTo(0UL));
        Assert.That(Str(Word(sp + 32)), Is.EqualTo("A=1"));
        Assert.That(Word(sp + 40), Is.EqualTo(0UL));

        var auxv = new Dictionary<ulong, ulong>();
        for (var p = sp + 48; ; p += 16)
        {
            var key = Word(p);
            if (key == 0)
            {
                break;
            }

            auxv[key] = Word(p + 8);
        }

        Assert.Multiple(() =>
        {
            Assert.That(auxv[3], Is.EqualTo(0x400040UL), "AT_PHDR");
            Assert.That(auxv[6], Is.EqualTo(4096UL), "AT_PAGESZ");
            Assert.That(auxv[9], Is.EqualTo(0x400078UL), "AT_ENTRY");
            Assert.That(auxv[16], Is.EqualTo(0x178BFBFFUL), "AT_HWCAP");
            Assert.That(Str(auxv[31]), Is.EqualTo("/bin/prog"), "AT_EXECFN");
            Assert.That(Str(auxv[15]), Is.EqualTo("x86_64"), "AT_PLATFORM");
            Assert.That(auxv.ContainsKey(25), Is.True, "AT_RANDOM");
        });
    }
}
