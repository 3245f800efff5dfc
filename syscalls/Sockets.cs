using System.Buffers.Binary;
using System.Text;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Net;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>
/// socket(2), socketpair(2), bind(2), listen(2), accept(2), connect(2), getsockname(2),
/// getpeername(2), getsockopt(2), setsockopt(2), shutdown(2) for AF_UNIX sockets (unix(7));
/// sending and receiving are in <see cref="SocketMessages"/>. Every other family answers
/// EAFNOSUPPORT, so programs that probe for AF_INET or AF_NETLINK fall back.
/// </summary>
internal static unsafe class Sockets
{
    private const int AfUnspec = 0, AfUnix = 1;
    private const int SockNonBlock = OpenFlags.NonBlock, SockCloexec = OpenFlags.CloseOnExec, SockTypeMask = 0xF;
    private const int SockRaw = 3;
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2, SoType = 3, SoError = 4, SoSndBuf = 7, SoRcvBuf = 8, SoKeepAlive = 9;
    private const int SoPassCred = 16, SoPeerCred = 17, SoRcvTimeo = 20, SoSndTimeo = 21, SoAcceptConn = 30, SoProtocol = 38, SoDomain = 39;

    /// <summary>sizeof(struct timeval), what SO_RCVTIMEO and SO_SNDTIMEO take.</summary>
    private const int TimevalSize = 16;

    /// <summary>net.core.wmem_max and rmem_max: SO_SNDBUF and SO_RCVBUF are cut to these, then doubled.</summary>
    private const int MaxBufferRequest = 212992;

    /// <summary>SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF.</summary>
    private const int MinSendBuffer = 4608, MinReceiveBuffer = 2304;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Socket, &Socket, Arg.Int, Arg.Hex, Arg.Int);
        t.Add(Nr.Socketpair, &Socketpair, Arg.Int, Arg.Hex, Arg.Int, Arg.Ptr);
        t.Add(Nr.Bind, &Bind, Arg.Fd, Arg.Ptr, Arg.Int);
        t.Add(Nr.Listen, &Listen, Arg.Fd, Arg.Int);
        t.Add(Nr.Accept, &Accept, Arg.Fd, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Accept4, &Accept4, Arg.Fd, Arg.Ptr, Arg.Ptr, Arg.Hex);
        t.Add(Nr.Connect, &Connect, Arg.Fd, Arg.Ptr, Arg.Int);
        t.Add(Nr.Getsockname, &Getsockname, Arg.Fd, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Getpeername, &Getpeername, Arg.Fd, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Getsockopt, &Getsockopt, Arg.Fd, Arg.Int, Arg.Int, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Setsockopt, &Setsockopt, Arg.Fd, Arg.Int, Arg.Int, Arg.Ptr, Arg.Int);
        t.Add(Nr.Shutdown, &Shutdown, Arg.Fd, Arg.Int);
        SocketMessages.Register(t);
    }

    /// <summary>The socket behind <paramref name="fd"/>: EBADF without a file, ENOTSOCK for any other file.</summary>
    internal static long Get(Task t, int fd, out UnixSocket? socket)
    {
        var file = t.Group.Fds.Get(fd);
        socket = file as UnixSocket;
        return file is null ? Errors.EBADF : socket is null ? Errors.Fail(Errno.ENOTSOCK) : 0;
    }

    /// <summary>
    /// __sys_socket(): unknown flags are EINVAL, other families EAFNOSUPPORT; unix_create()
    /// takes SOCK_STREAM, SOCK_DGRAM (SOCK_RAW is its alias) and SOCK_SEQPACKET, protocol 0 or PF_UNIX.
    /// </summary>
    private static long Create(int domain, int type, int protocol, out int kind, out int statusFlags)
    {
        kind = type & SockTypeMask;
        statusFlags = type & SockNonBlock;
        if ((type & ~SockTypeMask & ~(SockNonBlock | SockCloexec)) != 0)
        {
            return Errors.EINVAL;
        }

        if (domain != AfUnix)
        {
            return Errors.Fail(Errno.EAFNOSUPPORT);
        }

        if (protocol != 0 && protocol != AfUnix)
        {
            return Errors.Fail(Errno.EPROTONOSUPPORT);
        }

        kind = kind == SockRaw ? UnixSocket.Dgram : kind;
        return kind is UnixSocket.Stream or UnixSocket.Dgram or UnixSocket.SeqPacket ? 0 : Errors.Fail(Errno.ESOCKTNOSUPPORT);
    }

    private static long Socket(Task t, in SyscallArgs a)
    {
        var type = (int)a.A1;
        var r = Create((int)a.A0, type, (int)a.A2, out var kind, out var statusFlags);
        return r < 0 ? r : t.Group.Fds.Add(new UnixSocket(t.Kernel.UnixSockets, kind, statusFlags, t), (type & SockCloexec) != 0);
    }

    private static long Socketpair(Task t, in SyscallArgs a)
    {
        var type = (int)a.A1;
        var r = Create((int)a.A0, type, (int)a.A2, out var kind, out var statusFlags);
        if (r < 0)
        {
            return r;
        }

        var (first, second) = UnixSocket.Pair(t.Kernel.UnixSockets, kind, statusFlags, t);
        return Pipes.InstallPair(t, first, second, (type & SockCloexec) != 0, a.A3);
    }

    /// <summary>
    /// Reads a struct sockaddr_un argument (move_addr_to_kernel, unix_validate_addr): EINVAL
    /// for a bad length or family, EFAULT when unreadable. A pathname also comes back made
    /// absolute for the VFS; an abstract name has none.
    /// </summary>
    internal static long ReadAddress(Task t, ulong address, long length, out UnixAddress? parsed, out string? path)
    {
        parsed = null;
        path = null;
        if (length is < 0 or > UnixAddress.MaxLength)
        {
            return Errors.EINVAL;
        }

        var raw = new byte[length];
        if (!t.CopyIn(address, raw))
        {
            return Errors.EFAULT;
        }

        var e = UnixAddress.Parse(raw, out parsed);
        if (e == Errno.None && !parsed!.IsAbstract)
        {
            e = FileOpen.Resolve(t, FileOpen.AtFdCwd, Encoding.UTF8.GetString(parsed.Path), out var resolved);
            path = resolved;
        }

        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    /// <summary>The socket a sockaddr_un names (unix_find_other), for connect(2) and sendto(2).</summary>
    internal static long FindPeer(Task t, UnixSocket socket, ulong address, long length, out UnixSocket? peer)
    {
        peer = null;
        var r = ReadAddress(t, address, length, out var parsed, out var path);
        if (r < 0)
        {
            return r;
        }

        var e = t.Kernel.UnixSockets.Find(t, parsed!, path, socket.Type, out peer);
        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    /// <summary>bind(2): sun_family alone autobinds (unix(7)); a bound socket cannot bind again (EINVAL).</summary>
    private static long Bind(Task t, in SyscallArgs a)
    {
        var r = Get(t, (int)a.A0, out var socket);
        if (r < 0)
        {
            return r;
        }

        var names = t.Kernel.UnixSockets;
        Span<byte> family = stackalloc byte[UnixAddress.PathOffset];
        if ((long)a.A2 == UnixAddress.PathOffset && t.CopyIn(a.A1, family) && BinaryPrimitives.ReadUInt16LittleEndian(family) == AfUnix)
        {
            lock (names.Queue.SyncRoot)
            {
                names.Autobind(socket!);
            }

            return 0;
        }

        r = ReadAddress(t, a.A1, (long)a.A2, out var address, out var path);
        if (r < 0)
        {
            return r;
        }

        var e = path is null ? names.BindAbstract(socket!, address!) : names.BindPath(t, socket!, address!, path);
        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    private static long Listen(Task t, in SyscallArgs a)
    {
        var r = Get(t, (int)a.A0, out var socket);
        return r < 0 ? r : Result(socket!.Listen(t, (int)a.A1));
    }

    private static long Result(Errno e) => e == Errno.None ? 0 : Errors.Fail(e);

    private static long Accept(Task t, in SyscallArgs a) => DoAccept(t, (int)a.A0, a.A1, a.A2, 0);

    private static long Accept4(Task t, in SyscallArgs a) => DoAccept(t, (int)a.A0, a.A1, a.A2, (int)a.A3);

    /// <summary>accept4(2): the new socket gets SOCK_NONBLOCK and SOCK_CLOEXEC from the flags; the address is the client's.</summary>
    private static long DoAccept(Task t, int fd, ulong address, ulong lengthAddress, int flags)
    {
        if ((flags & ~(SockNonBlock | SockCloexec)) != 0)
        {
            return Errors.EINVAL;
        }

        var r = Get(t, fd, out var listener);
        if (r < 0)
        {
            return r;
        }

        r = listener!.Accept(t, out var accepted);
        if (r < 0)
        {
            return r;
        }

        accepted!.Flags |= flags & SockNonBlock;
        if (address != 0)
        {
            r = WriteAddress(t, NameOf(accepted.Peer?.Address), address, lengthAddress);
            if (r < 0)
            {
                accepted.Release();
                return r;
            }
        }

        return t.Group.Fds.Add(accepted, (flags & SockCloexec) != 0);
    }

    /// <summary>
    /// connect(2): a connection for stream and seqpacket sockets, the default destination for
    /// datagram ones (AF_UNSPEC dissolves it).
    /// </summary>
    private static long Connect(Task t, in SyscallArgs a)
    {
        var r = Get(t, (int)a.A0, out var socket);
        if (r < 0)
        {
            return r;
        }

        Span<byte> family = stackalloc byte[UnixAddress.PathOffset];
        if (socket!.Type == UnixSocket.Dgram && (long)a.A2 >= UnixAddress.PathOffset && t.CopyIn(a.A1, family) &&
            BinaryPrimitives.ReadUInt16LittleEndian(family) == AfUnspec)
        {
            return Result(socket.ConnectDatagram(null));
        }

        r = FindPeer(t, socket, a.A1, (long)a.A2, out var peer);
        if (r < 0)
        {
            return r;
        }

        return Result(socket.Type == UnixSocket.Dgram ? socket.ConnectDatagram(peer) : socket.Connect(t, peer!));
    }

    private static long Getsockname(Task t, in SyscallArgs a)
    {
        var r = Get(t, (int)a.A0, out var socket);
        return r < 0 ? r : WriteAddress(t, NameOf(socket!.Address), a.A1, a.A2);
    }

    /// <summary>getpeername(2): ENOTCONN without a peer.</summary>
    private static long Getpeername(Task t, in SyscallArgs a)
    {
        var r = Get(t, (int)a.A0, out var socket);
        if (r < 0)
        {
            return r;
        }

        return socket!.Peer is { } peer && socket.IsConnected ? WriteAddress(t, NameOf(peer.Address), a.A1, a.A2) : Errors.Fail(Errno.ENOTCONN);
    }

    /// <summary>A socket's name as getsockname(2) shows it: sun_family alone when unbound (unix_getname).</summary>
    private static byte[] NameOf(UnixAddress? address) => address?.ToSockaddr() ?? [(byte)AfUnix, 0];

    /// <summary>move_addr_to_user(): the address cut to the caller's *addrlen, which then says the whole length.</summary>
    internal static long WriteAddress(Task t, byte[] sockaddr, ulong buffer, ulong lengthAddress)
    {
        Span<byte> word = stackalloc byte[4];
        if (!t.CopyIn(lengthAddress, word))
        {
            return Errors.EFAULT;
        }

        var room = BinaryPrimitives.ReadInt32LittleEndian(word);
        if (room < 0)
        {
            return Errors.EINVAL;
        }

        BinaryPrimitives.WriteInt32LittleEndian(word, sockaddr.Length);
        if (!t.CopyOut(buffer, sockaddr.AsSpan(0, Math.Min(room, sockaddr.Length))) || !t.CopyOut(lengthAddress, word))
        {
            return Errors.EFAULT;
        }

        return 0;
    }

    /// <summary>shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR (0..2) become RCV_SHUTDOWN, SEND_SHUTDOWN or both.</summary>
    private static long Shutdown(Task t, in SyscallArgs a)
    {
        var r = Get(t, (int)a.A0, out var socket);
        if (r < 0)
        {
            return r;
        }

        var how = (long)a.A1;
        if (how is < 0 or > 2)
        {
            return Errors.EINVAL;
        }

        socket!.Shutdown((int)how + 1);
        return 0;
    }

    /// <summary>The socket of getsockopt(2) or setsockopt(2), whose level must be SOL_SOCKET: an AF_UNIX socket has no other options (EOPNOTSUPP).</summary>
    private static long GetForOption(Task t, in SyscallArgs a, out UnixSocket? socket)
    {
        var r = Get(t, (int)a.A0, out socket);
        return r < 0 ? r : (int)a.A1 != SolSocket ? Errors.Fail(Errno.EOPNOTSUPP) : 0;
    }

    /// <summary>getsockopt(2): SO_PEERCRED as struct ucred, the rest as int, cut to the caller's length.</summary>
    private static long Getsockopt(Task t, in SyscallArgs a)
    {
        var r = GetForOption(t, a, out var socket);
        if (r < 0)
        {
            return r;
        }

        Span<byte> word = stackalloc byte[4];
        if (!t.CopyIn(a.A4, word))
        {
            return Errors.EFAULT;
        }

        var room = BinaryPrimitives.ReadInt32LittleEndian(word);
        if (room < 0)
        {
            return Errors.EINVAL;
        }

        Span<byte> value = stackalloc byte[TimevalSize];
        int length;
        var s = socket!;
        var name = (int)a.A2;
        if (name == SoPeerCred)
        {
            var cred = s.PeerCred;
            BinaryPrimitives.WriteInt32LittleEndian(value, cred.Pid);
            BinaryPrimitives.WriteUInt32LittleEndian(value[4..], cred.Uid);
            BinaryPrimitives.WriteUInt32LittleEndian(value[8..], cred.Gid);
            length = 12;
        }
        else if (name is SoRcvTimeo or SoSndTimeo)
        {
            var micros = (name == SoRcvTimeo ? s.ReceiveTimeout : s.SendTimeout).Ticks / 10;
            BinaryPrimitives.WriteInt64LittleEndian(value, micros / 1_000_000);
            BinaryPrimitives.WriteInt64LittleEndian(value[8..], micros % 1_000_000);
            length = TimevalSize;
        }
        else
        {
            int? number = name switch
            {
                SoType => s.Type,
                SoError => (int)s.TakeError(),
                SoSndBuf => s.SendBuffer,
                SoRcvBuf => s.ReceiveBuffer,
                SoPassCred => s.PassCred ? 1 : 0,
                SoAcceptConn => s.IsListening ? 1 : 0,
                SoProtocol => 0,
                SoDomain => AfUnix,
                SoReuseAddr or SoKeepAlive => s.KeptOptions.GetValueOrDefault(name),
                _ => null,
            };
            if (number is not { } n)
            {
                return Errors.Fail(Errno.ENOPROTOOPT);
            }

            BinaryPrimitives.WriteInt32LittleEndian(value, n);
            length = 4;
        }

        length = Math.Min(room, length);
        BinaryPrimitives.WriteInt32LittleEndian(word, length);
        return t.CopyOut(a.A3, value[..length]) && t.CopyOut(a.A4, word) ? 0 : Errors.EFAULT;
    }

    /// <summary>
    /// setsockopt(2) at SOL_SOCKET: SO_SNDBUF and SO_RCVBUF keep twice what is asked, within
    /// Linux's limits (socket(7)); SO_PASSCRED; SO_RCVTIMEO and SO_SNDTIMEO; SO_REUSEADDR and
    /// SO_KEEPALIVE are kept for getsockopt but mean nothing to an AF_UNIX socket.
    /// </summary>
    private static long Setsockopt(Task t, in SyscallArgs a)
    {
        var r = GetForOption(t, a, out var socket);
        if (r < 0)
        {
            return r;
        }

        var name = (int)a.A2;
        if (name is SoRcvTimeo or SoSndTimeo)
        {
            return SetTimeout(t, socket!, name, a.A3, (int)a.A4);
        }

        if (name is not (SoSndBuf or SoRcvBuf or SoPassCred or SoReuseAddr or SoKeepAlive))
        {
            return Errors.Fail(Errno.ENOPROTOOPT);
        }

        Span<byte> word = stackalloc byte[4];
        if ((int)a.A4 < word.Length)
        {
            return Errors.EINVAL;
        }

        if (!t.CopyIn(a.A3, word))
        {
            return Errors.EFAULT;
        }

        var value = BinaryPrimitives.ReadInt32LittleEndian(word);
        var s = socket!;
        var doubled = (int)Math.Min((uint)value, MaxBufferRequest) * 2;
        switch (name)
        {
            case SoSndBuf:
                s.SendBuffer = Math.Max(doubled, MinSendBuffer);
                break;
            case SoRcvBuf:
                s.ReceiveBuffer = Math.Max(doubled, MinReceiveBuffer);
                break;
            case SoPassCred:
                s.PassCred = value != 0;
                break;
            default:
                s.KeptOptions[name] = value != 0 ? 1 : 0;
                break;
        }

        return 0;
    }

    /// <summary>
    /// SO_RCVTIMEO, SO_SNDTIMEO (sock_set_timeout): a struct timeval; zero waits for ever, a
    /// negative one not at all, microseconds out of range are EDOM.
    /// </summary>
    private static long SetTimeout(Task t, UnixSocket socket, int name, ulong address, int length)
    {
        Span<byte> timeval = stackalloc byte[TimevalSize];
        if (length < TimevalSize)
        {
            return Errors.EINVAL;
        }

        if (!t.CopyIn(address, timeval))
        {
            return Errors.EFAULT;
        }

        var seconds = BinaryPrimitives.ReadInt64LittleEndian(timeval);
        var micros = BinaryPrimitives.ReadInt64LittleEndian(timeval[8..]);
        if (micros is < 0 or >= 1_000_000)
        {
            return Errors.Fail(Errno.EDOM);
        }

        var timeout = seconds < 0 ? TimeSpan.FromTicks(1) : TimeSpan.FromTicks((Math.Min(seconds, 1L << 32) * TimeSpan.TicksPerSecond) + (micros * 10));
        if (name == SoRcvTimeo)
        {
            socket.ReceiveTimeout = timeout;
        }
        else
        {
            socket.SendTimeout = timeout;
        }

        return 0;
    }
}
