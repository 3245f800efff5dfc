using System.Runtime.Versioning;
using System.Text;
using UserModeOS.Hosts.Linux.Interop;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Hosts.Linux;

/// <summary>
/// A host folder passed through as the guest's root. Guest paths arrive normalised (no
/// "." or ".."), so they are joined under the folder; symlinks inside the folder are still
/// followed by the host until the guest VFS resolves them itself.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class HostFileSystem : IHostFileSystem
{
    private readonly string _root;

    public HostFileSystem(string rootFolder)
    {
        _root = Path.GetFullPath(rootFolder).TrimEnd('/');
    }

    private string HostPath(string guestPath) => guestPath == "/" ? (_root.Length == 0 ? "/" : _root) : _root + guestPath;

    public Errno Open(string path, int flags, uint mode, out OpenFile? file)
    {
        var fd = Libc.Open(HostPath(path), flags | OpenFlags.LargeFile, mode);
        if (fd < 0)
        {
            file = null;
            return (Errno)Libc.Errno;
        }

        file = new HostFile(fd, path, flags);
        return Errno.None;
    }

    public Errno Stat(string path, bool followSymlink, out StatInfo stat)
    {
        var buffer = stackalloc byte[StatInfo.StatSize];
        if (Libc.Fstatat(Libc.AtFdCwd, HostPath(path), buffer, followSymlink ? 0 : Libc.AtSymlinkNoFollow) != 0)
        {
            stat = default;
            return (Errno)Libc.Errno;
        }

        stat = HostStat.Parse(new ReadOnlySpan<byte>(buffer, StatInfo.StatSize));
        return Errno.None;
    }

    public Errno ReadLink(string path, out string target)
    {
        const int Max = 4096;
        var buffer = stackalloc byte[Max];
        var n = Libc.Readlink(HostPath(path), buffer, Max);
        if (n < 0)
        {
            target = "";
            return (Errno)Libc.Errno;
        }

        target = Encoding.UTF8.GetString(buffer, (int)n);
        return Errno.None;
    }

    public Errno Access(string path, int mode) =>
        Libc.Faccessat(Libc.AtFdCwd, HostPath(path), mode, 0) == 0 ? Errno.None : (Errno)Libc.Errno;
}
