using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.Dynamic;

/// <summary>Address-space layout randomisation: on by default, off under personality(ADDR_NO_RANDOMIZE).</summary>
[TestFixture]
public sealed class AslrTests
{
    private const string Source = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <unistd.h>
        #include <sys/mman.h>
        #include <sys/personality.h>
        int main(int argc, char **argv)
        {
            if (argc > 1 && argv[1][0] == 'R')
            {
                personality(ADDR_NO_RANDOMIZE);
                char *args[] = { argv[0], NULL };
                execv(argv[0], args);
                return 99;
            }
            void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            int local;
            printf("%p %p %p %p\n", (void *)main, m, (void *)&local, sbrk(0));
            return 0;
        }
        """;

    private static string[] Layout(string program, string? mode = null)
    {
        var r = Guest.Run(mode is null ? [program] : [program, mode]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        return r.StdoutText.Trim().Split(' ');
    }

    [Test]
    public void EveryRegionMovesBetweenRuns()
    {
        var program = CProgram.Compile(Source, "gcc", "-static-pie");
        var a = Layout(program);
        var b = Layout(program);
        Assert.Multiple(() =>
        {
            for (var i = 0; i < a.Length; i++)
            {
                Assert.That(b[i], Is.Not.EqualTo(a[i]), $"region {i} (text, mmap, stack, brk) did not move");
            }
        });
    }

    [Test]
    public void AddrNoRandomizeGivesTheSameLayoutEveryTime()
    {
        var program = CProgram.Compile(Source, "gcc", "-static-pie");
        Assert.That(Layout(program, "R"), Is.EqualTo(Layout(program, "R")));
    }

    [Test]
    public void NoAslrOptionFixesTheLayout()
    {
        var program = CProgram.Compile(Source, "gcc", "-static-pie");
        var a = Cli.Run("run", "--no-aslr", program);
        var b = Cli.Run("run", "--no-aslr", program);
        Assert.That(a.ExitCode, Is.EqualTo(0), a.Describe());
        Assert.That(b.StdoutText, Is.EqualTo(a.StdoutText));
    }
}
