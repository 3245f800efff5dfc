using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.Dynamic;

/// <summary>
/// Debian's own dynamically linked programs, started through their ld.so from the host's
/// root, native vs umos (issue 5). Each test is skipped when the program is not installed.
/// </summary>
[TestFixture]
public sealed class DebianProgramsTests
{
    private TempDir _data = null!;

    [OneTimeSetUp]
    public void CreateData()
    {
        _data = new TempDir("debian-data");
        _data.Write("words.txt", "pear\napple\nfig\nbanana\napple\ncherry\nfig\nkiwi\n10\n9\n100\n-3\n");
        _data.Write("random.bin", TestData.PseudoRandom(1 << 20, 0xd1));
        _data.Write("tree/a.txt", "alpha\n");
        _data.Write("tree/b/c.txt", "gamma\n");
    }

    [OneTimeTearDown]
    public void RemoveData() => _data.Dispose();

    private static void RequireProgram(string path) => Assume.That(File.Exists(path), $"{path} is not installed");

    private void Same(params string[] argv)
    {
        RequireProgram(argv[0]);
        Compare.AssertSameAsNative(argv, workdir: _data.Path);
    }

    [Test]
    public void LsLongListing() => Same("/bin/ls", "-la", "--time-style=+%Y", "tree", "tree/b");

    [Test]
    public void LsOfRoot() => Same("/bin/ls", "/");

    [Test]
    public void Sort() => Same("/usr/bin/sort", "words.txt");

    [Test]
    public void SortNumericUnique() => Same("/usr/bin/sort", "-n", "-u", "words.txt");

    [Test]
    public void Md5sum() => Same("/usr/bin/md5sum", "random.bin", "words.txt");

    [Test]
    public void Sha256AndSha512() => Same("/usr/bin/sha512sum", "random.bin");

    [Test]
    public void Sha256sum() => Same("/usr/bin/sha256sum", "random.bin", "words.txt");

    [Test]
    public void Factor() => Same("/usr/bin/factor", "1234567", "18446744073709551557", "600851475143");

    [Test]
    public void BashAssociativeArraysAndArithmetic() => Same(
        "/bin/bash", "-c", "declare -A m=([a]=1 [b]=2); m[c]=$((m[a] + m[b] * 10)); for k in a b c; do echo $k=${m[$k]}; done; echo $(( (1 << 40) / 3 ))");

    [Test]
    public void Python() => Same(
        "/usr/bin/python3", "-c",
        "import json, hashlib, math; print(json.dumps({'a': [1, 2.5, None]}, sort_keys=True)); print(hashlib.sha256(b'umos').hexdigest()); print(math.sqrt(2), 10 ** 30 // 7, f'{math.pi:.12f}')");

    [Test]
    public void PythonThreads() => Same(
        "/usr/bin/python3", "-c",
        "import threading, queue\nq = queue.Queue()\ndef work(n):\n    q.put((n, sum(i * i for i in range(n * 10000))))\nts = [threading.Thread(target=work, args=(n,)) for n in range(1, 5)]\nfor t in ts: t.start()\nfor t in ts: t.join()\nprint(sorted(q.get() for _ in range(4)))");

    [Test]
    public void PythonSubprocess() => Same(
        "/usr/bin/python3", "-c",
        "import subprocess; r = subprocess.run(['/bin/echo', 'hi'], capture_output=True); print(r.returncode, r.stdout)");

    [Test]
    public void Perl() => Same("/usr/bin/perl", "-e", "my %h = map { $_ => $_ ** 2 } 1..6; print join(',', map { \"$_=$h{$_}\" } sort keys %h), \"\\n\"; printf(\"%.10f\\n\", atan2(1, 1) * 4);");

    [Test]
    public void Sqlite() => Same("/usr/bin/sqlite3", ":memory:", "create table t(x); insert into t values (1),(2),(3); select sum(x), avg(x), group_concat(x) from t;");

    [Test]
    public void GzipRoundTrip() => Same("/bin/bash", "-c", "/bin/gzip -c -9 random.bin | /bin/gzip -d | /usr/bin/md5sum");

    [Test]
    public void XzAndZstdRoundTrips() => Same(
        "/bin/bash", "-c", "/usr/bin/xz -6 -c words.txt | /usr/bin/xz -d | /usr/bin/md5sum; /usr/bin/zstd -q -c random.bin | /usr/bin/zstd -q -d | /usr/bin/md5sum");

    [Test]
    public void TarCreateAndList() => Same("/bin/bash", "-c", "/bin/tar czf t.tgz tree && /bin/tar tzf t.tgz | /usr/bin/sort");

    [Test]
    public void OpensslDigest() => Same("/usr/bin/openssl", "dgst", "-sha256", "-sha512", "words.txt");

    [Test]
    public void Make() => Same(
        "/bin/bash", "-c", "printf 'all: out.txt\n\tcat out.txt\nout.txt: words.txt\n\tsort words.txt > out.txt\n' > Makefile && /usr/bin/make -s && /usr/bin/make -s");

    [Test]
    public void GitInitAddCommitLog()
    {
        RequireProgram("/usr/bin/git");
        var script = "export HOME=$PWD GIT_AUTHOR_DATE='2001-01-01T00:00:00Z' GIT_COMMITTER_DATE='2001-01-01T00:00:00Z'; " +
            "rm -rf repo; /usr/bin/git init -q -b main repo && cd repo && /usr/bin/git config user.email u@x && /usr/bin/git config user.name U && " +
            "echo one > f && /usr/bin/git add f && /usr/bin/git commit -qm first && echo two >> f && /usr/bin/git commit -qam second && " +
            "/usr/bin/git log --format='%H %s' && /usr/bin/git cat-file -p HEAD:f";
        using var scratch = new TempDir("git");
        Compare.AssertSameAsNative(["/bin/bash", "-c", script], workdir: scratch.Path);
    }

    [Test]
    public void GccCompilesAndTheResultRuns()
    {
        RequireProgram("/usr/bin/gcc");
        using var scratch = new TempDir("gcc");
        scratch.Write("p.c", "#include <stdio.h>\nint main(void) { double s = 0; for (int i = 1; i <= 100; i++) s += 1.0 / i; printf(\"%.12f\\n\", s); return 7; }\n");
        var r = Guest.Run(["/bin/bash", "-c", "/usr/bin/gcc -O2 -o p p.c && ./p"], workdir: scratch.Path, timeout: TimeSpan.FromSeconds(240));
        Assert.That(r.ExitCode, Is.EqualTo(7), r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("5.187377517640\n"));
    }
}
