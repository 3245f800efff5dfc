using System.Buffers.Binary;
using System.Text;
using UserModeOS.Conformance.Harness;
using UserModeOS.Drivers.Overlay;
using UserModeOS.Hosts.Linux;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// The overlay filesystem directly, over an upper layer that cannot mknod (as a host that is
/// not root): deletions fall back to aufs-style `.wh.NAME` marker files, which stay hidden.
/// </summary>
[TestFixture]
public sealed class OverlayWhiteoutMarkerTests
{
    [Test]
    public void MarkersStandInForWhiteoutDevices()
    {
        Assume.That(OperatingSystem.IsLinux());
        using var lower = new TempDir("umos-ovl-lower");
        using var upper = new TempDir("umos-ovl-upper");
        lower.Write("a.txt", "a\n");
        lower.Write("dir/x", "x\n");
        lower.Write("dir/y", "y\n");
        lower.Write("keep", "keep\n");
        var fs = new OverlayFileSystem(new HostFileSystem(lower.Path), new NoMknod(new HostFileSystem(upper.Path)));

        Assert.That(fs.Unlink("/a.txt", removeDirectory: false), Is.EqualTo(Errno.None));
        Assert.That(File.Exists(Path.Combine(upper.Path, ".wh.a.txt")), Is.True);
        Assert.That(fs.Stat("/a.txt", null, out _), Is.EqualTo(Errno.ENOENT));
        Assert.That(fs.Stat("/.wh.a.txt", null, out _), Is.EqualTo(Errno.ENOENT), "markers are never visible");
        Assert.That(List(fs, "/"), Is.EqualTo(new[] { ".", "..", "dir", "keep" }));

        Assert.That(fs.Unlink("/dir", removeDirectory: true), Is.EqualTo(Errno.ENOTEMPTY));
        Assert.That(fs.Unlink("/dir/x", removeDirectory: false), Is.EqualTo(Errno.None));
        Assert.That(fs.Unlink("/dir/y", removeDirectory: false), Is.EqualTo(Errno.None));
        Assert.That(List(fs, "/dir"), Is.EqualTo(new[] { ".", ".." }));
        Assert.That(fs.Unlink("/dir", removeDirectory: true), Is.EqualTo(Errno.None));
        Assert.That(fs.Stat("/dir", null, out _), Is.EqualTo(Errno.ENOENT));
        Assert.That(fs.MakeDirectory("/dir", 0x1ED), Is.EqualTo(Errno.None));
        Assert.That(List(fs, "/dir"), Is.EqualTo(new[] { ".", ".." }), "a folder made again is opaque");
        Assert.That(fs.Stat("/dir/x", null, out _), Is.EqualTo(Errno.ENOENT));

        // Creating over a marker removes it; the lower file stays as it was.
        Assert.That(fs.Open("/a.txt", OpenFlags.WriteOnly | OpenFlags.Create, 0x1A4, null, out var file), Is.EqualTo(Errno.None));
        file!.Release();
        Assert.That(File.Exists(Path.Combine(upper.Path, ".wh.a.txt")), Is.False);
        Assert.That(fs.Stat("/a.txt", null, out var st), Is.EqualTo(Errno.None));
        Assert.That(st.Size, Is.Zero);
        Assert.That(File.ReadAllText(lower["a.txt"]), Is.EqualTo("a\n"));
        Assert.That(File.ReadAllText(lower["dir/x"]), Is.EqualTo("x\n"));
    }

    private static string[] List(IFileSystem fs, string path)
    {
        Assert.That(fs.Open(path, OpenFlags.ReadOnly | OpenFlags.Directory, 0, null, out var dir), Is.EqualTo(Errno.None));
        var names = new List<string>();
        var buffer = new byte[4096];
        try
        {
            long n;
            while ((n = dir!.GetDents64(buffer)) > 0)
            {
                for (var at = 0; at < n;)
                {
                    var reclen = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(at + 16));
                    var name = buffer.AsSpan(at + 19, reclen - 19);
                    names.Add(Encoding.UTF8.GetString(name[..name.IndexOf((byte)0)]));
                    at += reclen;
                }
            }
        }
        finally
        {
            dir!.Release();
        }

        names.Sort(StringComparer.Ordinal);
        return names.ToArray();
    }

    /// <summary>A filesystem whose mknod is refused, as an unprivileged host's is.</summary>
    private sealed class NoMknod(IFileSystem inner) : IFileSystem
    {
        public string Type => inner.Type;
        public Errno StatFs(string path, out StatFsInfo info) => inner.StatFs(path, out info);
        public Errno Open(string path, int flags, uint mode, UserModeOS.Kernel.Task? caller, out OpenFile? file) => inner.Open(path, flags, mode, caller, out file);
        public Errno Stat(string path, UserModeOS.Kernel.Task? caller, out StatInfo stat) => inner.Stat(path, caller, out stat);
        public Errno ReadLink(string path, UserModeOS.Kernel.Task? caller, out string target) => inner.ReadLink(path, caller, out target);
        public Errno MakeDirectory(string path, uint mode) => inner.MakeDirectory(path, mode);
        public Errno MakeNode(string path, uint mode, ulong device) => Errno.EPERM;
        public Errno Unlink(string path, bool removeDirectory) => inner.Unlink(path, removeDirectory);
        public Errno Rename(string oldPath, string newPath, int flags) => inner.Rename(oldPath, newPath, flags);
        public Errno Symlink(string target, string linkPath) => inner.Symlink(target, linkPath);
        public Errno Link(string oldPath, string newPath) => inner.Link(oldPath, newPath);
        public Errno Chmod(string path, uint mode) => inner.Chmod(path, mode);
        public Errno Chown(string path, int uid, int gid) => inner.Chown(path, uid, gid);
        public Errno Utimens(string path, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify) => inner.Utimens(path, access, modify);
        public Errno Truncate(string path, long length) => inner.Truncate(path, length);
    }
}
