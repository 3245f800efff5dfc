using System.Text;
using UserModeOS.Conformance.Harness;
using UserModeOS.Hosting;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// A guest root folder built for a test: busybox-static at /bin/busybox with its applet
/// links, optional extra files, next to a sentinel file outside the root that no guest may
/// read or change. Runs programs in a box rooted there, in this process.
/// </summary>
public sealed class FolderRoot : IDisposable
{
    public const string Busybox = "/bin/busybox";
    public const string SentinelText = "SENTINEL-OUTSIDE-THE-ROOT\n";

    private static readonly string[] Applets =
    [
        "sh", "ls", "cat", "cp", "mv", "rm", "mkdir", "rmdir", "ln", "find", "tar", "stat", "touch", "chmod", "du", "df", "readlink",
        "echo", "sort", "head", "wc", "dd", "test", "realpath", "pwd", "sleep", "grep",
    ];

    private readonly TempDir _outer = new("umos-vfs");

    public FolderRoot()
    {
        Root = _outer["root"];
        Directory.CreateDirectory(Path.Combine(Root, "bin"));
        Directory.CreateDirectory(Path.Combine(Root, "work"));
        File.Copy(ResolveHost(Busybox), Path.Combine(Root, "bin/busybox"));
        foreach (var applet in Applets)
        {
            File.CreateSymbolicLink(Path.Combine(Root, "bin", applet), "busybox");
        }

        Sentinel = _outer["sentinel.txt"];
        File.WriteAllText(Sentinel, SentinelText);
        File.SetUnixFileMode(Sentinel, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        SentinelStamp = File.GetLastWriteTimeUtc(Sentinel);
    }

    /// <summary>The folder that is the guest's "/".</summary>
    public string Root { get; }

    /// <summary>The folder holding <see cref="Root"/> and the sentinel.</summary>
    public string Outer => _outer.Path;

    public string Sentinel { get; }

    private DateTime SentinelStamp { get; }

    /// <summary>A host path inside the root.</summary>
    public string this[string guestRelative] => Path.Combine(Root, guestRelative.TrimStart('/'));

    private static string ResolveHost(string path) => new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;

    /// <summary>Copies a host program into the root at <paramref name="guestPath"/>.</summary>
    public void Install(string hostPath, string guestPath)
    {
        var target = this[guestPath];
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(hostPath, target, overwrite: true);
        File.SetUnixFileMode(target, (UnixFileMode)0x1ED);
    }

    /// <summary>Asserts nothing outside the root changed: the sentinel is intact and the outer folder holds only it and the root.</summary>
    public void AssertWallHeld(RunResult run)
    {
        Assert.That(run.StdoutText + run.StderrText, Does.Not.Contain("SENTINEL-OUTSIDE"), "the guest read the sentinel outside its root");
        Assert.That(File.ReadAllText(Sentinel), Is.EqualTo(SentinelText), "the sentinel outside the root was modified");
        Assert.That(File.GetUnixFileMode(Sentinel), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), "the sentinel's mode changed");
        Assert.That(File.GetLastWriteTimeUtc(Sentinel), Is.EqualTo(SentinelStamp), "the sentinel's times changed");
        Assert.That(new FileInfo(Sentinel).LinkTarget, Is.Null);
        Assert.That(Directory.EnumerateFileSystemEntries(Outer).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "root", "sentinel.txt" }),
            "something was created outside the root");
        Assert.That(File.Exists(Path.Combine(Path.GetTempPath(), "escaped-by-guest")), Is.False);
        Assert.That(new FileInfo(Sentinel).Length, Is.EqualTo(SentinelText.Length));
    }

    /// <summary>Runs a program in a box rooted at <see cref="Root"/>; stdout and stderr captured.</summary>
    public RunResult Run(string[] argv, string workdir = "/", IReadOnlyList<string>? env = null, BoxOptions? options = null, TimeSpan? timeout = null)
    {
        var log = new StringWriter();
        var stdout = new SyncStream();
        var stderr = new SyncStream();
        var box = Box.Create(options ?? new BoxOptions { RootPath = Root, Log = TextWriter.Synchronized(log) });
        var watch = System.Diagnostics.Stopwatch.StartNew();
        GuestProcess process;
        try
        {
            process = box.Start(new GuestStartInfo
            {
                Program = argv[0],
                Arguments = argv,
                Environment = env ?? ["PATH=/bin", "LC_ALL=C", "HOME=/"],
                WorkingDirectory = workdir,
                Stdout = GuestStdio.FromStream(stdout),
                Stderr = GuestStdio.FromStream(stderr),
            });
        }
        catch (GuestStartException e)
        {
            return new RunResult(127, [], Encoding.UTF8.GetBytes($"umos: {e.Message}\n")) { UmosLog = log.ToString() };
        }

        var wait = process.WaitForExitAsync();
        if (!wait.Wait(timeout ?? TimeSpan.FromSeconds(60)))
        {
            process.Kill();
            Assert.Fail($"`{string.Join(' ', argv)}` did not exit in time; stdout so far:\n{Encoding.UTF8.GetString(stdout.ToArray())}");
        }

        var result = new RunResult(wait.Result, stdout.ToArray(), stderr.ToArray()) { UmosLog = log.ToString(), Elapsed = watch.Elapsed };
        TestContext.Out.WriteLine($"`{string.Join(' ', argv)}` under --root: exit {result.ExitCode}\n{result.StdoutText}{result.StderrText}{result.UmosLog}");
        return result;
    }

    /// <summary>busybox sh -c SCRIPT in the root.</summary>
    public RunResult Sh(string script, string workdir = "/") => Run(["/bin/sh", "-c", script], workdir);

    public void Dispose() => _outer.Dispose();

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
}
