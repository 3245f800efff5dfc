using System.IO.Pipelines;
using System.Text;
using UserModeOS.Conformance.Harness;
using UserModeOS.Hosting;

namespace UserModeOS.Conformance.Processes;

/// <summary>
/// Process behaviour seen from the embedding API, under umos only: the per-box task limit
/// against a fork bomb (natively it would hurt the machine) and signals sent from the host
/// (Ctrl-C) to a guest blocked reading its stdin.
/// </summary>
[TestFixture]
public sealed class BoxProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private const string ForkBomb = """
        int main(void)
        {
            /* Each child waits on a pipe that never gets data, so every process stays alive. */
            int gate[2];
            MUST(pipe(gate));
            int forked = 0, err = 0;
            for (;;) {
                pid_t c = fork();
                if (c < 0) { err = errno; break; }
                if (c == 0) { char b; close(gate[1]); read(gate[0], &b, 1); _exit(0); }
                forked++;
            }
            SAY("fork failed with %s after at least 10 children: %d\n", err == EAGAIN ? "EAGAIN" : strerror(err), forked >= 10);
            /* A thread is a task too. */
            pthread_t t;
            int r = pthread_create(&t, NULL, (void *(*)(void *))sleep, (void *)1);
            SAY("pthread_create at the limit: %s\n", r == EAGAIN ? "EAGAIN" : r == 0 ? "ok" : strerror(r));
            close(gate[1]);
            int reaped = 0;
            while (wait(NULL) > 0) reaped++;
            SAY("reaped all: %d\n", reaped == forked);
            /* Room again once they are gone. */
            pid_t c = fork();
            if (c == 0) _exit(0);
            SAY("fork after reaping: %s\n", c > 0 ? "ok" : strerror(errno));
            waitpid(c, NULL, 0);
            return 0;
        }
        """;

    [TestCase("gcc")]
    [TestCase("musl-gcc")]
    public async Task ForkBombStopsAtTheTaskLimit(string compiler)
    {
        var exe = ProcessPrograms.Compile(ForkBomb, compiler);
        using var cts = new CancellationTokenSource(Timeout);
        var log = new StringWriter();
        var box = Box.Create(new BoxOptions { RootPath = "/", Log = TextWriter.Synchronized(log), MaxTasks = 64 });
        var output = new MemoryStream();
        var process = box.Start(new GuestStartInfo
        {
            Program = exe,
            Environment = Guest.DefaultEnvironment,
            Stdout = GuestStdio.FromStream(Stream.Synchronized(output)),
        });
        Assert.That(await process.WaitForExitAsync(cts.Token), Is.EqualTo(0), log.ToString());
        Assert.That(Encoding.UTF8.GetString(output.ToArray()), Is.EqualTo(
            "fork failed with EAGAIN after at least 10 children: 1\n" +
            "pthread_create at the limit: EAGAIN\n" +
            "reaped all: 1\n" +
            "fork after reaping: ok\n"), log.ToString());

        // The host lives on and the same box still runs programs.
        var again = new MemoryStream();
        var echo = box.Start(new GuestStartInfo
        {
            Program = "/bin/busybox",
            Arguments = ["/bin/busybox", "sh", "-c", "echo still here; /bin/busybox true && echo child ran"],
            Environment = Guest.DefaultEnvironment,
            Stdout = GuestStdio.FromStream(Stream.Synchronized(again)),
        });
        Assert.That(await echo.WaitForExitAsync(cts.Token), Is.EqualTo(0), log.ToString());
        Assert.That(Encoding.UTF8.GetString(again.ToArray()), Is.EqualTo("still here\nchild ran\n"));
    }

    /// <summary>A shell blocked reading a pipe stream takes Ctrl-C: its trap runs, then it exits.</summary>
    [Test]
    public async Task SigintReachesAGuestBlockedReadingStdin()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var log = new StringWriter();
        var box = Box.Create(new BoxOptions { RootPath = "/", Log = TextWriter.Synchronized(log) });
        var stdin = new Pipe();
        var stdout = new Pipe();
        var process = box.Start(new GuestStartInfo
        {
            Program = "/bin/busybox",
            Arguments = ["/bin/busybox", "sh", "-c", "trap 'echo interrupted; exit 7' INT; echo ready; read -r line; echo \"read $line\""],
            Environment = Guest.DefaultEnvironment,
            Stdin = GuestStdio.FromPipe(stdin.Reader),
            Stdout = GuestStdio.FromPipe(stdout.Writer),
        });
        var seen = new StringBuilder();
        await ReadUntilAsync(stdout.Reader, seen, "ready\n", cts.Token);
        await System.Threading.Tasks.Task.Delay(200, cts.Token); // into the blocking read
        box.SignalForeground(2);
        Assert.That(await process.WaitForExitAsync(cts.Token), Is.EqualTo(7), log.ToString());
        await ReadUntilAsync(stdout.Reader, seen, "\u0000never", cts.Token);
        Assert.That(seen.ToString(), Is.EqualTo("ready\ninterrupted\n"), log.ToString());
    }

    /// <summary>Without a handler SIGINT kills the whole foreground group, children blocked on stdin too.</summary>
    [Test]
    public async Task SigintKillsTheForegroundGroup()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var log = new StringWriter();
        var box = Box.Create(new BoxOptions { RootPath = "/", Log = TextWriter.Synchronized(log) });
        var stdin = new Pipe();
        var stdout = new Pipe();
        var process = box.Start(new GuestStartInfo
        {
            Program = "/bin/busybox",
            Arguments = ["/bin/busybox", "sh", "-c", "echo ready; /bin/busybox cat; echo not reached"],
            Environment = Guest.DefaultEnvironment,
            Stdin = GuestStdio.FromPipe(stdin.Reader),
            Stdout = GuestStdio.FromPipe(stdout.Writer),
        });
        var seen = new StringBuilder();
        await ReadUntilAsync(stdout.Reader, seen, "ready\n", cts.Token);
        await stdin.Writer.WriteAsync("line for cat\n"u8.ToArray(), cts.Token);
        await ReadUntilAsync(stdout.Reader, seen, "line for cat\n", cts.Token);
        process.SignalProcessGroup(2);
        Assert.That(await process.WaitForExitAsync(cts.Token), Is.EqualTo(128 + 2), log.ToString());
        Assert.That(seen.ToString(), Is.EqualTo("ready\nline for cat\n"));
    }

    private static async Task ReadUntilAsync(PipeReader reader, StringBuilder seen, string expected, CancellationToken ct)
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
    }
}
