using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance;

/// <summary>
/// Programs umos cannot run: exactly one "umos: ..." line on stderr, exit 127 when the file
/// is missing and 126 otherwise (like a shell), never a .NET stack trace.
/// </summary>
[TestFixture]
public sealed class BadInputTests
{
    private const UnixFileMode Executable = (UnixFileMode)0b111_101_101;
    private TempDir _dir = null!;

    [OneTimeSetUp]
    public void CreateFiles() => _dir = new TempDir("bad-input");

    [OneTimeTearDown]
    public void DeleteFiles() => _dir?.Dispose();

    internal static void AssertOneUmosLine(RunResult r)
    {
        CliTests.AssertNoStackTrace(r);
        var lines = r.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), $"expected exactly one stderr line:\n{r.StderrText}");
        Assert.That(lines[0], Does.StartWith("umos:"));
        TestContext.Out.WriteLine("stderr: " + lines[0]);
    }

    private static byte[] Busybox() => File.ReadAllBytes("/bin/busybox");

    private RunResult RunBad(string name, byte[] content, int expectedStatus, UnixFileMode mode = Executable)
    {
        var path = _dir.Write(name, content, mode);
        var r = Cli.Run("run", path, "arg");
        Assert.That(r.ExitCode, Is.EqualTo(expectedStatus), r.Describe());
        Assert.That(r.Stdout, Is.Empty);
        AssertOneUmosLine(r);

        // The embedding API reports the same through GuestStartException, mapped by Guest.Run.
        var g = Guest.Run([path, "arg"]);
        Assert.That(g.ExitCode, Is.EqualTo(expectedStatus), g.Describe());
        return r;
    }

    [Test]
    public void MissingFile()
    {
        var r = Cli.Run("run", "/no/such/program", "x");
        Assert.That(r.ExitCode, Is.EqualTo(127), r.Describe());
        AssertOneUmosLine(r);
        Assert.That(r.StderrText, Does.Contain("/no/such/program"));
    }

    [Test]
    public void MissingRelativeFile()
    {
        var r = Cli.Run("run", "no-such-program");
        Assert.That(r.ExitCode, Is.EqualTo(127), r.Describe());
        AssertOneUmosLine(r);
    }

    [Test]
    public void TextFileWithExecPermission() =>
        RunBad("notes.txt", "this is just text\nnot a program\n"u8.ToArray(), 126);

    [Test]
    public void EmptyFile() => RunBad("empty", [], 126);

    [Test]
    public void DirectoryAsProgram()
    {
        var r = Cli.Run("run", _dir.Path);
        Assert.That(r.ExitCode, Is.EqualTo(126), r.Describe());
        AssertOneUmosLine(r);
    }

    [Test]
    public void TruncatedElf() => RunBad("truncated", Busybox()[..100], 126);

    [Test]
    public void TruncatedElfHeader() => RunBad("truncated-header", Busybox()[..40], 126);

    [Test]
    public void TruncatedElfMidSegment() => RunBad("truncated-half", Busybox()[..(Busybox().Length / 2)], 126);

    [Test]
    public void Elf32Bit()
    {
        var b = Busybox();
        b[4] = 1; // EI_CLASS = ELFCLASS32
        RunBad("elf32", b, 126);
    }

    [Test]
    public void BigEndianElf()
    {
        var b = Busybox();
        b[5] = 2; // EI_DATA = ELFDATA2MSB
        RunBad("elf-msb", b, 126);
    }

    [Test]
    public void ElfForAnotherMachine()
    {
        var b = Busybox();
        b[18] = 0xB7; // e_machine = EM_AARCH64
        b[19] = 0;
        var r = RunBad("elf-aarch64", b, 126);
        Assert.That(r.StderrText, Does.Contain("machine").IgnoreCase);
    }

    [Test]
    public void RelocatableObjectNotExecutable()
    {
        var b = Busybox();
        b[16] = 1; // e_type = ET_REL
        b[17] = 0;
        RunBad("elf-rel", b, 126);
    }

    [Test]
    public void NotExecutablePermission()
    {
        // execve(2) refuses a file without execute permission (EACCES -> 126).
        RunBad("busybox-noexec", Busybox(), 126, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Test]
    public void RandomBytes() => RunBad("random", TestData.PseudoRandom(10000, 7), 126);
}
