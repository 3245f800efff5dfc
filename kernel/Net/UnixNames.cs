using System.Text;
using UserModeOS.Kernel.Sched;
using UserModeOS.Kernel.Vfs;
using SocketInode = (UserModeOS.Kernel.Vfs.IFileSystem FileSystem, ulong Device, ulong Inode);

namespace UserModeOS.Kernel.Net;

/// <summary>
/// A bound AF_UNIX address (unix(7)): the bytes of sun_path that name the socket. A pathname
/// stops at its first NUL; an abstract name starts with a NUL and is every byte addrlen gave.
/// </summary>
public sealed class UnixAddress(byte[] path)
{
    /// <summary>offsetof(struct sockaddr_un, sun_path): the sa_family_t before the name.</summary>
    public const int PathOffset = 2;

    /// <summary>sizeof(struct sockaddr_un).</summary>
    public const int MaxLength = PathOffset + 108;

    public const ushort AfUnix = 1;

    public byte[] Path { get; } = path;

    public bool IsAbstract => Path.Length > 0 && Path[0] == 0;

    /// <summary>
    /// struct sockaddr_un as getsockname(2) returns it: a pathname with its NUL counted
    /// (unix_mkname_bsd), an abstract name exactly as long as it was bound.
    /// </summary>
    public byte[] ToSockaddr()
    {
        var bytes = new byte[PathOffset + Path.Length + (IsAbstract ? 0 : 1)];
        bytes[0] = (byte)AfUnix;
        Path.CopyTo(bytes, PathOffset);
        return bytes;
    }

    /// <summary>The address in a struct sockaddr_un of <paramref name="raw"/>.Length bytes: EINVAL when too short, too long or not AF_UNIX.</summary>
    public static Errno Parse(ReadOnlySpan<byte> raw, out UnixAddress? address)
    {
        address = null;
        if (raw.Length <= PathOffset || raw.Length > MaxLength || (raw[0] | (raw[1] << 8)) != AfUnix)
        {
            return Errno.EINVAL;
        }

        var path = raw[PathOffset..];
        if (path[0] != 0)
        {
            var nul = path.IndexOf((byte)0);
            path = nul >= 0 ? path[..nul] : path;
        }

        address = new UnixAddress(path.ToArray());
        return Errno.None;
    }

    /// <summary>
    /// The table key of an abstract name for sockets of <paramref name="type"/>: Linux hashes
    /// the type in (unix_abstract_hash), so each type has its own abstract names.
    /// </summary>
    internal string AbstractKey(int type) => (char)type + Encoding.Latin1.GetString(Path);
}

/// <summary>
/// The AF_UNIX sockets of one kernel: the names they are bound to and the one lock their state
/// changes under. Linux locks each socket and takes a peer's lock in a fixed order; one lock
/// per kernel keeps connect, accept and close races simple at the cost of contention that
/// guest programs here never notice. A filesystem name is the socket inode bind(2) made, found
/// again by (filesystem, st_dev, st_ino) as fifos are (kernel/Ipc/Fifo.cs); an abstract name
/// lives only in this table (unix(7), "Abstract sockets").
/// </summary>
public sealed class UnixNames
{
    private readonly Dictionary<SocketInode, UnixSocket> _byInode = new();
    private readonly Dictionary<string, UnixSocket> _abstract = new(StringComparer.Ordinal);
    private int _lastAutobind;

    /// <summary>Every socket's state changes under <see cref="WaitQueue.SyncRoot"/>; woken on every change.</summary>
    public WaitQueue Queue { get; } = new();

    /// <summary>
    /// bind(2) to a filesystem name (unix_bind_bsd): the socket inode is made through the VFS
    /// with the umask applied (EADDRINUSE when the name exists), then the socket takes it; a
    /// socket bound meanwhile gives the name back (EINVAL).
    /// </summary>
    public Errno BindPath(Task task, UnixSocket socket, UnixAddress address, string path)
    {
        var vfs = task.Kernel.Vfs;
        var e = vfs.MakeNode(task, path, InodeMode.Socket | (0x1FF & ~task.Group.Umask), 0);
        if (e != Errno.None)
        {
            return e == Errno.EEXIST ? Errno.EADDRINUSE : e;
        }

        e = vfs.Walk(task, path, WalkFlags.None, out var r);
        if (e == Errno.None && !r.Exists)
        {
            e = Errno.ENOENT;
        }

        lock (Queue.SyncRoot)
        {
            if (e == Errno.None && socket.Address is null)
            {
                socket.Address = address;
                socket.NameInode = (r.FileSystem, r.Stat.Device, r.Stat.Inode);
                _byInode[socket.NameInode.Value] = socket;
                return Errno.None;
            }
        }

        vfs.Unlink(task, path, removeDirectory: false);
        return e != Errno.None ? e : Errno.EINVAL;
    }

    /// <summary>bind(2) to an abstract name: EADDRINUSE when another socket has it.</summary>
    public Errno BindAbstract(UnixSocket socket, UnixAddress address)
    {
        lock (Queue.SyncRoot)
        {
            if (socket.Address is not null)
            {
                return Errno.EINVAL;
            }

            if (!_abstract.TryAdd(address.AbstractKey(socket.Type), socket))
            {
                return Errno.EADDRINUSE;
            }

            socket.Address = address;
            return Errno.None;
        }
    }

    /// <summary>
    /// Autobind (unix(7)): an unbound socket that binds with only sun_family, or sends or
    /// connects with SO_PASSCRED, gets an abstract name of five hex digits. Under the lock.
    /// </summary>
    internal void Autobind(UnixSocket socket)
    {
        while (socket.Address is null)
        {
            _lastAutobind = (_lastAutobind + 1) & 0xFFFFF;
            var address = new UnixAddress(Encoding.ASCII.GetBytes("\0" + _lastAutobind.ToString("x5", System.Globalization.CultureInfo.InvariantCulture)));
            if (_abstract.TryAdd(address.AbstractKey(socket.Type), socket))
            {
                socket.Address = address;
            }
        }
    }

    /// <summary>
    /// The socket of <paramref name="type"/> bound to <paramref name="address"/>
    /// (unix_find_other): a pathname is walked, following symlinks, to a socket inode
    /// (ECONNREFUSED for any other file) that the caller may write (EACCES); ECONNREFUSED when
    /// no socket is bound there or it has closed, EPROTOTYPE when a pathname's socket is of
    /// another type (an abstract name of another type is another name).
    /// </summary>
    public Errno Find(Task task, UnixAddress address, string? path, int type, out UnixSocket? socket)
    {
        socket = null;
        if (path is not null)
        {
            var e = task.Kernel.Vfs.Walk(task, path, WalkFlags.Follow, out var r);
            if (e != Errno.None)
            {
                return e;
            }

            if (!r.Exists)
            {
                return Errno.ENOENT;
            }

            if ((r.Stat.Mode & InodeMode.TypeMask) != InodeMode.Socket || r.MagicFile is not null)
            {
                return Errno.ECONNREFUSED;
            }

            e = Permission.Check(r, task, task.Cred, Permission.MayWrite);
            if (e != Errno.None)
            {
                return e;
            }

            lock (Queue.SyncRoot)
            {
                _byInode.TryGetValue((r.FileSystem, r.Stat.Device, r.Stat.Inode), out socket);
            }
        }
        else
        {
            lock (Queue.SyncRoot)
            {
                _abstract.TryGetValue(address.AbstractKey(type), out socket);
            }
        }

        return socket is null || socket.IsDead ? Errno.ECONNREFUSED : socket.Type != type ? Errno.EPROTOTYPE : Errno.None;
    }

    /// <summary>A closing socket gives its name back (the inode stays until unlinked, as on Linux). Under the lock.</summary>
    internal void Unbind(UnixSocket socket)
    {
        if (socket.NameInode is { } inode)
        {
            // The inode may have been unlinked and its number reused by a socket bound since.
            if (_byInode.GetValueOrDefault(inode) == socket)
            {
                _byInode.Remove(inode);
            }
        }
        else if (socket.Address is { IsAbstract: true } address)
        {
            _abstract.Remove(address.AbstractKey(socket.Type));
        }
    }
}
