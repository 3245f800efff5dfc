using System.Text;
using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance;

/// <summary>
/// busybox-static (Debian's /bin/busybox) applets, native vs umos. Nothing here needs
/// fork: no pipelines, no $(...), no external commands from sh.
/// </summary>
[TestFixture]
public sealed class BusyboxTests
{
    private const string Busybox = "/bin/busybox";
    private TempDir _data = null!;

    private static string[] Bb(params string[] args) => [Busybox, .. args];

    [OneTimeSetUp]
    public void CreateData()
    {
        Assume.That(File.Exists(Busybox), "busybox-static is not installed");
        _data = new TempDir("bb-data");
        _data.Write("random.bin", TestData.PseudoRandom(4 << 20, 0x5eed));
        _data.Write("small.bin", TestData.PseudoRandom(300 << 10, 42));
        _data.Write("words.txt", "pear\napple\nfig\nbanana\napple\ncherry\nfig\nkiwi\n10\n9\n100\n-3\n");
        _data.Write("lines.txt", string.Concat(Enumerable.Range(1, 500).Select(i => $"line {i}: {(i * 7919) % 1000} {new string('x', i % 13)}\n")));
        using (var gz = new MemoryStream())
        {
            using (var z = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            {
                z.Write(File.ReadAllBytes(_data["lines.txt"]));
            }

            _data.Write("lines.gz", gz.ToArray());
        }

        _data.Write("a.txt", "one\ntwo\nthree\nfour\n");
        _data.Write("b.txt", "one\nTWO\nthree\nfour\nfive\n");
        _data.Write("listing/alpha.txt", "a");
        _data.Write("listing/beta.dat", "bb");
        _data.Write("listing/gamma", "ccc");
        _data.Write("listing/.hidden", "h");
        _data.Write("listing/run.sh", "#!/bin/sh\necho hi\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(_data["listing/sub"]);
        var stamp = new DateTime(2020, 2, 29, 12, 34, 56, DateTimeKind.Utc);
        foreach (var f in Directory.EnumerateFileSystemEntries(_data["listing"]))
        {
            File.SetLastWriteTimeUtc(f, stamp);
        }
    }

    [OneTimeTearDown]
    public void DeleteData() => _data?.Dispose();

    private RunResult Same(string[] argv, string? stdin = null, bool compareStderr = true) =>
        Compare.AssertSameAsNative(argv, stdin is null ? null : Encoding.UTF8.GetBytes(stdin), _data.Path, compareStderr: compareStderr);

    // ---- basics ----

    [Test]
    public void EchoHello()
    {
        var r = Same(Bb("echo", "hello"));
        Assert.That(r.StdoutText, Is.EqualTo("hello\n"));
    }

    [Test]
    public void EchoEscapes() => Same(Bb("echo", "-e", "a\\tb\\n\\x41\\0101"));

    [Test]
    public void EchoNoNewline() => Same(Bb("echo", "-n", "x"));

    [Test]
    public void UnameSM()
    {
        var r = Same(Bb("uname", "-s", "-m"));
        Assert.That(r.StdoutText, Is.EqualTo("Linux x86_64\n"));
    }

    [TestCase("true", 0)]
    [TestCase("false", 1)]
    public void TrueFalseExitCodes(string applet, int expected)
    {
        var r = Same(Bb(applet));
        Assert.That(r.ExitCode, Is.EqualTo(expected));
    }

    [Test]
    public void TestBracket() => Same(Bb("[", "3", "-lt", "20", "-a", "abc", "!=", "abd", "]"));

    [Test]
    public void TestBracketFalse() => Same(Bb("test", "-d", "a.txt"));

    [Test]
    public void Env() => Same(Bb("env"));

    [Test]
    public void Pwd() => Same(Bb("pwd"));

    // ---- hashing a multi-megabyte file ----

    [Test]
    public void Md5sum4MiB() => Same(Bb("md5sum", "random.bin"));

    [Test]
    public void Sha256sum4MiB() => Same(Bb("sha256sum", "random.bin"));

    [Test]
    public void Sha1sum() => Same(Bb("sha1sum", "small.bin"));

    [Test]
    public void Sha512sum() => Same(Bb("sha512sum", "small.bin"));

    [Test]
    public void Sha3sum() => Same(Bb("sha3sum", "small.bin"));

    [Test]
    public void Md5sumStdin() => Same(Bb("md5sum"), stdin: "hello world\n");

    [Test]
    public void Crc32() => Same(Bb("crc32", "small.bin"));

    [Test]
    public void GzipRoundTrip()
    {
        // Compressed bytes are deterministic (-n: no name/time in the header).
        Same(Bb("gzip", "-n", "-c", "lines.txt"));
        Same(Bb("gzip", "-d", "-c", "lines.gz"));
        Same(Bb("gzip", "-t", "lines.gz"));
    }

    // ---- sh (ash) builtins only ----

    [Test]
    public void ShArithmeticLoop()
    {
        var r = Same(Bb("sh", "-c", "i=0; s=0; while [ $i -lt 2000 ]; do s=$((s+i*i)); i=$((i+1)); done; echo $s"));
        Assert.That(r.StdoutText, Is.EqualTo("2664667000\n"));
    }

    [Test]
    public void ShExit42()
    {
        var r = Same(Bb("sh", "-c", "exit 42"));
        Assert.That(r.ExitCode, Is.EqualTo(42));
    }

    [Test]
    public void ShArithmeticEdgeCases() =>
        Same(Bb("sh", "-c", "echo $((-7/2)) $((-7%2)) $((1<<62)) $((0x7fffffffffffffff+1)) $((077)) $((3>2 && 1)) $((~5)) $((2**10))"));

    [Test]
    public void ShStringsAndCase() =>
        Same(Bb("sh", "-c", """
            v=hello.world.txt
            echo ${#v} ${v%.*} ${v##*.} ${v#*.} ${v%%.*}
            f() { echo "f($#): $*"; return 3; }
            f a "b c" d; echo rc=$?
            for w in x y z; do case $w in x) echo X;; y|z) echo YZ-$w;; esac; done
            set -- 1 2 3; shift; echo "$@"
            printf '%05d|%-4s|%x|%o|%c\n' 42 ab 255 8 Z
            """));

    [Test]
    public void ShReadStdin() =>
        Same(Bb("sh", "-c", "n=0; while read -r a b; do n=$((n+1)); echo \"$n:$b:$a\"; done; echo total $n"), stdin: "x 1\ny 2\nz 3\n");

    [Test]
    public void ShRedirectionToFile()
    {
        using var dir = new TempDir("bb-redir");
        var script = "echo first > out.txt; echo second >> out.txt; while read l; do echo \"got $l\"; done < out.txt";
        Compare.AssertSameAsNative(Bb("sh", "-c", script), workdir: dir.Path, compareStderr: true);
    }

    [Test]
    public void ShSyntaxErrorStatus() => Same(Bb("sh", "-c", "if then fi"), compareStderr: false);

    // ---- awk: floating point printf ----

    [Test]
    public void AwkFloatPrintf()
    {
        var r = Same(Bb("awk", "BEGIN { printf \"%.6f %e %g\\n\", 3.14159265358979/7, 1e300*1e5, 2/3 }"));
        Assert.That(r.StdoutText, Is.EqualTo("0.448799 1.000000e+305 0.666667\n"));
    }

    [Test]
    public void AwkNumberFormatting() =>
        // Debian's busybox awk has no libm ("Math support is not compiled in"): no sqrt/exp/^.
        Same(Bb("awk", "BEGIN { printf \"%d %d %.3e %g %g %G %i\\n\", int(-3.7), 2147483648*2, 6.02214076e23, 1e-5, 123456789, 1e-300*1e-300, -0.5; " +
                       "x = 0.1 + 0.2; printf \"%.17g %s %s %d\\n\", x, x, 1/3, 7%3; " +
                       "y = 1e308*10; printf \"%f %e %g\\n\", y, -y, y-y; " +
                       "printf \"%5.2f|%-8.3e|%+.4g|%x|%o|%c\\n\", 3.14159, 0.000123456, 98765.4321, 255, 8, 65 }"));

    [Test]
    public void AwkLoopAndArrays() =>
        Same(Bb("awk", "{ n[$1]++; s += length($0) } END { for (i = 1; i <= 3000; i++) acc += i * 0.5; printf \"%d %.2f\\n\", s, acc; print n[\"apple\"], n[\"fig\"], NR }", "words.txt"));

    [Test]
    public void AwkFieldProcessing() =>
        Same(Bb("awk", "-F", ":", "$1 ~ /7$/ { sum += $2 } END { print sum, NR; printf \"%s|%5.1f|%-6s|\\n\", toupper(\"abc\"), 2.25, substr(\"abcdef\", 2, 3) }", "lines.txt"));

    // ---- text utilities (no fork) ----

    [Test]
    public void Seq() => Same(Bb("seq", "1", "3", "1000"));

    [Test]
    public void SeqSeparatorAndFloat() => Same(Bb("seq", "-s", ",", "0", "0.25", "3"));

    [Test]
    public void Sort() => Same(Bb("sort", "words.txt"));

    [Test]
    public void SortNumericReverseUnique() => Same(Bb("sort", "-n", "-r", "-u", "words.txt"));

    [Test]
    public void SortStdin() => Same(Bb("sort"), stdin: "c\na\nb\n");

    [Test]
    public void Wc() => Same(Bb("wc", "lines.txt", "words.txt"));

    [Test]
    public void WcStdin() => Same(Bb("wc", "-l", "-c"), stdin: "a b\nc\n");

    [Test]
    public void Cat() => Same(Bb("cat", "lines.txt", "a.txt"));

    [Test]
    public void CatBinary() => Same(Bb("cat", "small.bin"));

    [Test]
    public void CatStdin() => Same(Bb("cat"), stdin: "from stdin\nline 2");

    [Test]
    public void CatMissingFile() => Same(Bb("cat", "no-such-file"));

    [Test]
    public void HeadTail()
    {
        Same(Bb("head", "-n", "7", "lines.txt"));
        Same(Bb("tail", "-n", "5", "lines.txt"));
        Same(Bb("tail", "-c", "100", "lines.txt"));
    }

    [Test]
    public void UniqCutTrRev()
    {
        Same(Bb("uniq", "-c", "words.txt"));
        Same(Bb("cut", "-d", " ", "-f", "1,3", "lines.txt"));
        Same(Bb("tr", "a-z", "A-Z"), stdin: "Hello, World\n");
        Same(Bb("rev", "a.txt"));
        Same(Bb("nl", "a.txt"));
    }

    [Test]
    public void SedAndGrep()
    {
        Same(Bb("sed", "-e", "s/line \\([0-9]*\\)/L\\1/", "-e", "/x\\{12\\}/d", "lines.txt"));
        Same(Bb("grep", "-n", "-E", "^line [0-9]*7:", "lines.txt"));
        Same(Bb("grep", "-c", "-v", "x", "lines.txt"));
        Same(Bb("grep", "nomatch", "a.txt"));
    }

    [Test]
    public void CmpAndDiff()
    {
        Same(Bb("cmp", "a.txt", "b.txt"));
        Same(Bb("diff", "a.txt", "b.txt"));
        Same(Bb("diff", "a.txt", "a.txt"));
    }

    [Test]
    public void HexDumps()
    {
        Same(Bb("od", "-A", "x", "-t", "x1z", "-N", "64", "small.bin"));
        Same(Bb("hexdump", "-C", "-n", "100", "small.bin"));
        Same(Bb("xxd", "-l", "64", "small.bin"));
    }

    [Test]
    public void Ls() => Same(Bb("ls", "listing"));

    [Test]
    public void LsAllLong() => Same(Bb("ls", "-la", "-n", "--full-time", "listing"));

    [Test]
    public void LsMissing() => Same(Bb("ls", "nothing-here"));

    [Test]
    public void Printf() => Same(Bb("printf", "%d|%5s|%-5s|%x|%o|%e|%.3f|%c|%%|%s\\n", "42", "ab", "cd", "255", "8", "12345.678", "2.71828", "Z", "tail"));

    [Test]
    public void PrintfLoopsOverArguments() => Same(Bb("printf", "<%s:%d>\\n", "a", "1", "b", "2", "c"));

    [Test]
    public void BasenameDirname()
    {
        Same(Bb("basename", "/usr/lib/libc.so.6", ".6"));
        Same(Bb("dirname", "/usr/lib/libc.so.6"));
    }

    [TestCase("6", "*", "7")]
    [TestCase("length", "hello")]
    [TestCase("100", "/", "7")]
    [TestCase("-100", "%", "7")]
    [TestCase("abc", "<", "abd")]
    [TestCase("0", "+", "0")]
    [TestCase("9223372036854775807", "-", "1")]
    [TestCase("7", "/", "0")]
    [TestCase("hello", ":", "h\\(.*\\)o")]
    public void Expr(params string[] args) => Same(Bb(["expr", .. args]));

    [Test]
    public void Factor() => Same(Bb("factor", "1234567890", "4294967291", "600851475143", "9999999967"));

    [Test]
    public void DateFixed() => Same(Bb("date", "-u", "-d", "@1234567890", "+%Y-%m-%d %H:%M:%S %a %j %s"));

    [Test]
    public void Bc() => Same(Bb("bc"), stdin: "2^100\nscale=20; 4*a(1)\n1/7\n");

    [Test]
    public void Dc() => Same(Bb("dc", "-e", "2 64 ^ p 10 k 1 3 / p"));

    [Test]
    public void UnknownApplet() => Same(Bb("no-such-applet"));
}
