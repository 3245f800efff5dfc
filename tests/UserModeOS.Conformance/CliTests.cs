using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance;

/// <summary>The `./umos` command line, run as a child process.</summary>
[TestFixture]
public sealed class CliTests
{
    internal static void AssertNoStackTrace(RunResult r)
    {
        Assert.That(r.StderrText, Does.Not.Contain("   at ").And.Not.Contain("Exception"), "a .NET stack trace leaked to stderr");
        Assert.That(r.StdoutText, Does.Not.Contain("   at ").And.Not.Contain("Exception"), "a .NET stack trace leaked to stdout");
    }

    [Test]
    public void Help()
    {
        var r = Cli.Run("--help");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        Assert.That(r.StdoutText, Does.Contain("run"));
        AssertNoStackTrace(r);
    }

    [Test]
    public void RunHelp()
    {
        var r = Cli.Run("run", "--help");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        Assert.That(r.StdoutText, Does.Contain("--root").And.Contain("--strace"));
    }

    [Test]
    public void Version()
    {
        var r = Cli.Run("--version");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        Assert.That(r.StdoutText.Trim(), Is.Not.Empty);
        AssertNoStackTrace(r);
    }

    [Test]
    public void RunWithDoubleDash()
    {
        var r = Cli.Run("run", "--", "/bin/busybox", "echo", "hi");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("hi\n"));
    }

    [Test]
    public void GuestOptionsPassThrough()
    {
        var r = Cli.Run("run", "/bin/busybox", "echo", "-n", "x");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("x"));
    }

    [Test]
    public void GuestHelpOptionPassesThrough()
    {
        // `--help` after the program belongs to the guest, not to umos.
        var r = Cli.Run("run", "/bin/busybox", "basename", "--help");
        Assert.That(r.StderrText + r.StdoutText, Does.Contain("Usage: basename"), r.Describe());
        Assert.That(r.StdoutText, Does.Not.Contain("--strace"));
    }

    [TestCase("exit 3", 3)]
    [TestCase("exit 0", 0)]
    [TestCase("exit 255", 255)]
    [TestCase("kill -9 $$", 137)]
    public void ExitStatusPropagates(string script, int expected)
    {
        var r = Cli.Run("run", "/bin/busybox", "sh", "-c", script);
        Assert.That(r.ExitCode, Is.EqualTo(expected), r.Describe());
        AssertNoStackTrace(r);
    }

    [TestCase("gcc")]
    [TestCase("musl-gcc")]
    public void SegfaultGives139(string compiler)
    {
        var exe = CProgram.Compile("""
            #include <stdio.h>
            int main(void) { puts("before"); fflush(stdout); *(volatile long *)0x1234 = 1; puts("after"); return 0; }
            """, compiler);
        var native = Native.Run([exe]);
        Assert.That(native.ExitCode, Is.EqualTo(139), "natively: " + native.Describe());
        var r = Cli.Run("run", exe);
        Assert.That(r.ExitCode, Is.EqualTo(139), r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("before\n"));
        AssertNoStackTrace(r);
    }

    [Test]
    public void StraceShowsWrite()
    {
        var r = Cli.Run("run", "--strace", "--", "/bin/busybox", "echo", "hi");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("hi\n"));
        Assert.That(r.StderrText, Does.Contain("write(1, \"hi\\n\", 3) = 3"));
        Assert.That(r.StderrText, Does.Contain("exit_group(0)"));
    }

    [Test]
    public void StraceWithoutDoubleDash()
    {
        var r = Cli.Run("run", "--strace", "/bin/busybox", "echo", "hi");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("hi\n"));
        Assert.That(r.StderrText, Does.Contain("write(1, \"hi\\n\", 3) = 3"));
    }

    [Test]
    public void GuestStartsInCurrentDirectory()
    {
        var r = Cli.Run("run", "/bin/busybox", "pwd");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo(Cli.WorkingDirectory + "\n"));
    }

    [Test]
    public void RootOption()
    {
        using var root = new TempDir("cli-root");
        Directory.CreateDirectory(root["bin"]);
        File.Copy("/bin/busybox", root["bin/busybox"]);
        File.SetUnixFileMode(root["bin/busybox"], (UnixFileMode)0b111_101_101);
        root.Write("marker.txt", "inside the box\n");
        var r = Cli.Run("run", "--root", root.Path, "/bin/busybox", "cat", "/marker.txt");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("inside the box\n"));

        var pwd = Cli.Run("run", "--root", root.Path, "/bin/busybox", "pwd");
        Assert.That(pwd.StdoutText, Is.EqualTo("/\n"), pwd.Describe());
    }

    [Test]
    public void MissingRootFolder()
    {
        var r = Cli.Run("run", "--root", "/no/such/root/folder", "/bin/busybox", "true");
        Assert.That(r.ExitCode, Is.Not.EqualTo(0));
        BadInputTests.AssertOneUmosLine(r);
    }

    [Test]
    public void RunWithoutProgram()
    {
        var r = Cli.Run("run");
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), r.Describe());
        AssertNoStackTrace(r);
    }

    [Test]
    public void UnknownCommand()
    {
        var r = Cli.Run("frobnicate");
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), r.Describe());
        AssertNoStackTrace(r);
    }

    [Test]
    public void StdinIsPassedThrough()
    {
        // Cli.Run gives the child an empty stdin: cat sees end of file at once.
        var r = Cli.Run("run", "/bin/busybox", "wc", "-c");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        Assert.That(r.StdoutText.Trim(), Is.EqualTo("0"));
    }
}
