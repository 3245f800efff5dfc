using System.Diagnostics;
using UserModeOS.Hosting;

namespace UserModeOS.Conformance.Harness;

/// <summary>Runs a program under UserModeOS, in this process, through the embedding API.</summary>
public static class Guest
{
    /// <summary>The environment both sides get unless a test passes its own.</summary>
    public static readonly string[] DefaultEnvironment = ["PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=/root"];

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Runs <paramref name="argv"/> (argv[0] is the program, a path in the host's "/") in a
    /// fresh box rooted at "/", with stdin from <paramref name="stdin"/> (empty when null),
    /// stdout and stderr captured. The working directory defaults to a fresh temp folder
    /// (deleted afterwards). A start failure (missing file, not an x86-64 ELF) is returned
    /// as a shell would: exit 127 (not found) or 126 with a "umos: ..." line on stderr.
    /// Exceeding <paramref name="timeout"/> fails the test.
    /// </summary>
    public static RunResult Run(string[] argv, byte[]? stdin = null, string? workdir = null, string[]? env = null, TimeSpan? timeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(argv.Length, nameof(argv));
        using var scratch = workdir is null ? new TempDir("guest-cwd") : null;
        var cwd = workdir ?? scratch!.Path;

        var log = new LogWriter();
        var stdout = new SyncStream();
        var stderr = new SyncStream();
        var box = Box.Create(new BoxOptions { RootPath = "/", Log = log });
        var watch = Stopwatch.StartNew();
        GuestProcess process;
        try
        {
            process = box.Start(new GuestStartInfo
            {
                Program = argv[0],
                Arguments = argv,
                Environment = env ?? DefaultEnvironment,
                WorkingDirectory = cwd,
                Stdin = GuestStdio.FromStream(new MemoryStream(stdin ?? [], writable: false)),
                Stdout = GuestStdio.FromStream(stdout),
                Stderr = GuestStdio.FromStream(stderr),
            });
        }
        catch (GuestStartException e)
        {
            var message = System.Text.Encoding.UTF8.GetBytes($"umos: {e.Message}\n");
            return new RunResult(e.Errno == UserModeOS.Kernel.Errno.ENOENT ? 127 : 126, [], message)
            {
                UmosLog = log.ToString(),
                Elapsed = watch.Elapsed,
            };
        }

        var limit = timeout ?? DefaultTimeout;
        var wait = process.WaitForExitAsync();
        if (!wait.Wait(limit))
        {
            process.Kill();
            var partial = new RunResult(-1, stdout.ToArray(), stderr.ToArray()) { UmosLog = log.ToString(), Elapsed = watch.Elapsed };
            Assert.Fail($"guest `{string.Join(' ', argv)}` did not exit within {limit.TotalSeconds} s (killed)\n"
                + $"stdout so far: {Text.Escape(partial.StdoutText, 500)}\n{partial.Describe()}");
        }

        var umosLog = log.ToString();
        if (umosLog.Contains(" at rip 0x", StringComparison.Ordinal))
        {
            umosLog += FaultInfo.Explain(argv[0].StartsWith('/') ? argv[0] : Path.Combine(cwd, argv[0]), umosLog);
        }

        var result = new RunResult(wait.Result, stdout.ToArray(), stderr.ToArray())
        {
            UmosLog = umosLog,
            Elapsed = watch.Elapsed,
        };
        if (result.UmosLog.Length > 0)
        {
            TestContext.Out.WriteLine($"[umos log for `{string.Join(' ', argv)}`]\n{Text.Clip(result.UmosLog, 4000)}");
        }

        return result;
    }

    /// <summary>A thread-safe in-memory sink for the guest's output.</summary>
    private sealed class SyncStream : Stream
    {
        private readonly MemoryStream _inner = new();
        private readonly Lock _lock = new();

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public byte[] ToArray()
        {
            lock (_lock)
            {
                return _inner.ToArray();
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            lock (_lock)
            {
                _inner.Write(buffer);
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>The kernel log, collected.</summary>
    private sealed class LogWriter : StringWriter
    {
        private readonly Lock _lock = new();

        public override void Write(char value)
        {
            lock (_lock)
            {
                base.Write(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_lock)
            {
                base.Write(value);
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_lock)
            {
                base.WriteLine(value);
            }
        }

        public override string ToString()
        {
            lock (_lock)
            {
                return base.ToString();
            }
        }
    }
}
