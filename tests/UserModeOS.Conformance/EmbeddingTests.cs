using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using UserModeOS.Conformance.Harness;
using UserModeOS.Hosting;

namespace UserModeOS.Conformance;

/// <summary>The embedding API (Box) used directly, as an application would.</summary>
[TestFixture]
public sealed class EmbeddingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Reads from <paramref name="reader"/> until the text seen so far contains <paramref name="expected"/>.</summary>
    private static async Task<string> ReadUntilAsync(PipeReader reader, StringBuilder seen, string expected, CancellationToken ct)
    {
        while (!seen.ToString().Contains(expected, StringComparison.Ordinal))
        {
            var result = await reader.ReadAsync(ct);
            foreach (var segment in result.Buffer)
            {
                seen.Append(Encoding.UTF8.GetString(segment.Span));
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        return seen.ToString();
    }

    [Test]
    public async Task PipesStreamWhileTheGuestRuns()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var log = new StringWriter();
        var box = Box.Create(new BoxOptions { RootPath = "/", Log = TextWriter.Synchronized(log) });
        var stdin = new Pipe();
        var stdout = new Pipe();
        var process = box.Start(new GuestStartInfo
        {
            Program = "/bin/busybox",
            Arguments = ["/bin/busybox", "sh", "-c", "while read -r line; do echo \"got $line\"; done; echo bye"],
            Environment = Guest.DefaultEnvironment,
            Stdin = GuestStdio.FromPipe(stdin.Reader),
            Stdout = GuestStdio.FromPipe(stdout.Writer),
            Stderr = GuestStdio.Null,
        });
        var exited = process.WaitForExitAsync(cts.Token);
        var seen = new StringBuilder();

        // The guest answers each line while it keeps running, blocked on its stdin.
        await stdin.Writer.WriteAsync("one\n"u8.ToArray(), cts.Token);
        var text = await ReadUntilAsync(stdout.Reader, seen, "got one\n", cts.Token);
        Assert.That(text, Is.EqualTo("got one\n"), log.ToString());
        Assert.That(exited.IsCompleted, Is.False, "the guest should still be waiting for input");

        await stdin.Writer.WriteAsync("two\n"u8.ToArray(), cts.Token);
        text = await ReadUntilAsync(stdout.Reader, seen, "got two\n", cts.Token);
        Assert.That(text, Is.EqualTo("got one\ngot two\n"));
        Assert.That(exited.IsCompleted, Is.False);

        // End of input: the loop ends, the guest exits and closing its stdout completes the pipe.
        await stdin.Writer.CompleteAsync();
        text = await ReadUntilAsync(stdout.Reader, seen, "\u0000never", cts.Token);
        Assert.That(text, Is.EqualTo("got one\ngot two\nbye\n"), log.ToString());
        Assert.That(await exited, Is.EqualTo(0), log.ToString());
    }

    [Test]
    public async Task PipeReaderSeesOutputIncrementally()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var log = new StringWriter();
        var box = Box.Create(new BoxOptions { Log = TextWriter.Synchronized(log) });
        var stdout = new Pipe();
        var process = box.Start(new GuestStartInfo
        {
            Program = "/bin/busybox",
            Arguments = ["/bin/busybox", "sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); done"],
            Stdout = GuestStdio.FromPipe(stdout.Writer),
        });
        var exited = process.WaitForExitAsync(cts.Token);
        var reads = 0;
        long total = 0;
        var all = new StringBuilder();
        while (true)
        {
            var result = await stdout.Reader.ReadAsync(cts.Token);
            if (!result.Buffer.IsEmpty)
            {
                reads++;
                total += result.Buffer.Length;
                all.Append(Encoding.UTF8.GetString(result.Buffer.ToArray()));
            }

            stdout.Reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await stdout.Reader.CompleteAsync();
        Assert.That(await exited, Is.EqualTo(0), log.ToString());
        var expected = string.Concat(Enumerable.Range(0, 300).Select(i => $"line {i}\n"));
        Assert.That(all.ToString(), Is.EqualTo(expected));
        Assert.That(total, Is.EqualTo(expected.Length));
        TestContext.Out.WriteLine($"{reads} reads for {total} bytes");
        Assert.That(reads, Is.GreaterThan(1), "output arrived in one piece only after the guest ended");
    }

    [Test]
    public async Task TwoBoxesWithDifferentRootsRunConcurrently()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var rootA = MakeRoot("A");
        using var rootB = MakeRoot("B");
        var logA = new StringWriter();
        var logB = new StringWriter();
        var boxA = Box.Create(new BoxOptions { RootPath = rootA.Path, Log = TextWriter.Synchronized(logA), Hostname = "box-a" });
        var boxB = Box.Create(new BoxOptions { RootPath = rootB.Path, Log = TextWriter.Synchronized(logB), Hostname = "box-b" });

        // Each guest loops a while, reads its own /who.txt, writes into its own /out folder.
        const string script = "i=0; s=0; while [ $i -lt 1500 ]; do s=$((s+i)); i=$((i+1)); done; "
            + "read -r who < /who.txt; echo \"$who $s\" > /out/result.txt; echo \"$who done\"; exit 5";

        (GuestProcess Process, MemoryStream Out) Start(Box box) =>
            StartCaptured(box, ["/bin/busybox", "sh", "-c", script]);

        var a = Start(boxA);
        var b = Start(boxB);
        Assert.That(a.Process.Pid, Is.EqualTo(b.Process.Pid), "each box has its own pid space");

        var codes = await Task.WhenAll(a.Process.WaitForExitAsync(cts.Token), b.Process.WaitForExitAsync(cts.Token));
        Assert.That(codes, Is.EqualTo(new[] { 5, 5 }), $"A log:\n{logA}\nB log:\n{logB}");
        Assert.That(Encoding.UTF8.GetString(a.Out.ToArray()), Is.EqualTo("box A done\n"), $"A log:\n{logA}");
        Assert.That(Encoding.UTF8.GetString(b.Out.ToArray()), Is.EqualTo("box B done\n"), $"B log:\n{logB}");
        Assert.That(File.ReadAllText(rootA["out/result.txt"]), Is.EqualTo("box A 1124250\n"));
        Assert.That(File.ReadAllText(rootB["out/result.txt"]), Is.EqualTo("box B 1124250\n"));

        // Each box sees its own hostname.
        var ha = StartCaptured(boxA, ["/bin/busybox", "hostname"]);
        var hb = StartCaptured(boxB, ["/bin/busybox", "uname", "-n"]);
        Assert.That(await ha.Process.WaitForExitAsync(cts.Token), Is.EqualTo(0), logA.ToString());
        Assert.That(await hb.Process.WaitForExitAsync(cts.Token), Is.EqualTo(0), logB.ToString());
        Assert.That(Encoding.UTF8.GetString(ha.Out.ToArray()), Is.EqualTo("box-a\n"));
        Assert.That(Encoding.UTF8.GetString(hb.Out.ToArray()), Is.EqualTo("box-b\n"));
    }

    private static (GuestProcess Process, MemoryStream Out) StartCaptured(Box box, string[] argv)
    {
        var output = new MemoryStream();
        var process = box.Start(new GuestStartInfo
        {
            Program = argv[0],
            Arguments = argv,
            Environment = Guest.DefaultEnvironment,
            Stdout = GuestStdio.FromStream(Stream.Synchronized(output)),
        });
        return (process, output);
    }

    private static TempDir MakeRoot(string name)
    {
        var root = new TempDir("box-root-" + name);
        Directory.CreateDirectory(root["bin"]);
        Directory.CreateDirectory(root["out"]);
        File.Copy("/bin/busybox", root["bin/busybox"]);
        File.SetUnixFileMode(root["bin/busybox"], (UnixFileMode)0b111_101_101);
        root.Write("who.txt", $"box {name}\n");
        return root;
    }

    [Test]
    public void StartFailureThrowsGuestStartException()
    {
        var box = Box.Create(new BoxOptions { Log = TextWriter.Null });
        var e = Assert.Throws<GuestStartException>(() => box.Start(new GuestStartInfo { Program = "/no/such/file" }));
        Assert.That(e!.Errno, Is.EqualTo(UserModeOS.Kernel.Errno.ENOENT));
        Assert.That(e.Message, Does.Contain("/no/such/file"));
    }

    [Test]
    public void MissingRootFolderThrows() =>
        Assert.Throws<DirectoryNotFoundException>(() => Box.Create(new BoxOptions { RootPath = "/no/such/root" }));

    [Test]
    public async Task StdinFromStreamAndStderrCapturedSeparately()
    {
        var log = new StringWriter();
        var box = Box.Create(new BoxOptions { Log = TextWriter.Synchronized(log) });
        var output = new MemoryStream();
        var errors = new MemoryStream();
        var process = box.Start(new GuestStartInfo
        {
            Program = "/bin/busybox",
            Arguments = ["/bin/busybox", "sh", "-c", "while read -r l; do echo \"out:$l\"; echo \"err:$l\" >&2; done"],
            Stdin = GuestStdio.FromStream(new MemoryStream("a\nb\n"u8.ToArray())),
            Stdout = GuestStdio.FromStream(output),
            Stderr = GuestStdio.FromStream(errors),
        });
        Assert.That(await process.WaitForExitAsync().WaitAsync(Timeout), Is.EqualTo(0), log.ToString());
        Assert.That(Encoding.UTF8.GetString(output.ToArray()), Is.EqualTo("out:a\nout:b\n"), log.ToString());
        Assert.That(Encoding.UTF8.GetString(errors.ToArray()), Is.EqualTo("err:a\nerr:b\n"), log.ToString());
    }

    [Test]
    public async Task StraceGoesToTheBoxLog()
    {
        var log = new StringWriter();
        var box = Box.Create(new BoxOptions { Strace = true, Log = TextWriter.Synchronized(log) });
        var output = new MemoryStream();
        var process = box.Start(new GuestStartInfo
        {
            Program = "/bin/busybox",
            Arguments = ["/bin/busybox", "echo", "traced"],
            Stdout = GuestStdio.FromStream(output),
        });
        Assert.That(await process.WaitForExitAsync().WaitAsync(Timeout), Is.EqualTo(0), log.ToString());
        Assert.That(Encoding.UTF8.GetString(output.ToArray()), Is.EqualTo("traced\n"));
        Assert.That(log.ToString(), Does.Contain("write(1, \"traced\\n\", 7) = 7"));
    }

    [Test]
    public async Task ManySequentialBoxes()
    {
        // Boxes are cheap and independent: each gets pid 1... and its own kernel.
        for (var i = 0; i < 10; i++)
        {
            var r = Guest.Run(["/bin/busybox", "sh", "-c", $"echo run {i}; exit {i}"]);
            Assert.That(r.ExitCode, Is.EqualTo(i), r.Describe());
            Assert.That(r.StdoutText, Is.EqualTo($"run {i}\n"));
        }

        await Task.CompletedTask;
    }
}
