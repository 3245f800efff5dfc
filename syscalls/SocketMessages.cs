using System.Buffers.Binary;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Net;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>
/// sendto(2), sendmsg(2), recvfrom(2), recvmsg(2) on AF_UNIX sockets, with the ancillary
/// data of unix(7): SCM_RIGHTS (open file descriptions in flight) and SCM_CREDENTIALS.
/// </summary>
internal static unsafe class SocketMessages
{
    private const int SolSocket = 1, ScmRights = 1, ScmCredentials = 2;

    /// <summary>SCM_MAX_FD: the most fds one message may carry.</summary>
    private const int MaxFdsPerMessage = 253;

    /// <summary>sizeof(struct cmsghdr): cmsg_len (size_t), cmsg_level, cmsg_type.</summary>
    private const int CmsgHeader = 16;

    /// <summary>sizeof(struct ucred).</summary>
    private const int UcredSize = 12;

    /// <summary>struct msghdr: name, namelen, iov, iovlen, control, controllen, flags.</summary>
    private const int MsghdrSize = 56, NameLengthAt = 8, ControlLengthAt = 40, FlagsAt = 48;

    /// <summary>
    /// The most one call moves through a kernel buffer: more than any datagram can be (twice
    /// wmem_max); a stream is sent in pieces of it, and a stream read returns less.
    /// </summary>
    private const int MaxTransfer = 1 << 20;

    /// <summary>The most ancillary data sendmsg(2) takes (sysctl net.core.optmem_max).</summary>
    private const int MaxControl = 128 * 1024;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Sendto, &Sendto, Arg.Fd, Arg.Buf, Arg.Int, Arg.Hex, Arg.Ptr, Arg.Int);
        t.Add(Nr.Recvfrom, &Recvfrom, Arg.Fd, Arg.OutBuf, Arg.Int, Arg.Hex, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Sendmsg, &Sendmsg, Arg.Fd, Arg.Ptr, Arg.Hex);
        t.Add(Nr.Recvmsg, &Recvmsg, Arg.Fd, Arg.Ptr, Arg.Hex);
    }

    private static long Sendto(Task t, in SyscallArgs a) =>
        Send(t, (int)a.A0, [(a.A1, (long)a.A2)], (int)a.A3, a.A4, (long)(int)a.A5, 0, 0);

    private static long Sendmsg(Task t, in SyscallArgs a)
    {
        var r = ReadMsghdr(t, a.A1, out var header, out var iov);
        return r < 0 ? r : Send(t, (int)a.A0, iov!, (int)a.A2, header.Name, header.NameLength, header.Control, header.ControlLength);
    }

    private static long Recvfrom(Task t, in SyscallArgs a)
    {
        var extras = new ReceivedExtras();
        var r = Receive(t, (int)a.A0, [(a.A1, (long)a.A2)], (int)a.A3, extras);
        foreach (var file in extras.Files)
        {
            file.Release();
        }

        if (r >= 0 && a.A4 != 0)
        {
            var w = Sockets.WriteAddress(t, extras.From?.ToSockaddr() ?? [], a.A4, a.A5);
            return w < 0 ? w : r;
        }

        return r;
    }

    private static long Recvmsg(Task t, in SyscallArgs a)
    {
        var flags = (int)a.A2;
        var r = ReadMsghdr(t, a.A1, out var header, out var iov);
        if (r < 0)
        {
            return r;
        }

        var extras = new ReceivedExtras();
        r = Receive(t, (int)a.A0, iov!, flags, extras);
        if (r < 0)
        {
            return r;
        }

        // The name is the sender's (none from an unbound one); msg_flags starts with MSG_CMSG_CLOEXEC as given.
        var name = header.Name != 0 ? extras.From?.ToSockaddr() ?? [] : [];
        var outFlags = flags & MessageFlags.CmsgCloexec;
        if (extras.FullLength > r)
        {
            outFlags |= MessageFlags.Truncate;
        }

        var control = new byte[(int)Math.Min(header.ControlLength, MaxControl)];
        var used = PutControl(t, extras, header.Control != 0 ? control : [], (flags & MessageFlags.CmsgCloexec) != 0, ref outFlags);
        Span<byte> word = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(word, name.Length);
        var ok = t.CopyOut(header.Name, name.AsSpan(0, Math.Min(name.Length, Math.Max(header.NameLength, 0)))) && t.CopyOut(a.A1 + NameLengthAt, word[..4]);
        BinaryPrimitives.WriteInt64LittleEndian(word, used);
        ok = ok && t.CopyOut(header.Control, control.AsSpan(0, used)) && t.CopyOut(a.A1 + ControlLengthAt, word);
        BinaryPrimitives.WriteInt32LittleEndian(word, outFlags);
        ok = ok && t.CopyOut(a.A1 + FlagsAt, word[..4]);
        return ok ? r : Errors.EFAULT;
    }

    private readonly record struct Msghdr(ulong Name, int NameLength, ulong Control, ulong ControlLength);

    /// <summary>Reads a struct msghdr and its iovecs (EFAULT, EMSGSIZE past UIO_MAXIOV, EINVAL for a negative length).</summary>
    private static long ReadMsghdr(Task t, ulong address, out Msghdr header, out (ulong Base, long Length)[]? iov)
    {
        header = default;
        iov = null;
        Span<byte> raw = stackalloc byte[MsghdrSize];
        if (!t.CopyIn(address, raw))
        {
            return Errors.EFAULT;
        }

        header = new Msghdr(
            BinaryPrimitives.ReadUInt64LittleEndian(raw),
            BinaryPrimitives.ReadInt32LittleEndian(raw[NameLengthAt..]),
            BinaryPrimitives.ReadUInt64LittleEndian(raw[32..]),
            BinaryPrimitives.ReadUInt64LittleEndian(raw[ControlLengthAt..]));
        var count = BinaryPrimitives.ReadUInt64LittleEndian(raw[24..]);
        if (count > FileIo.IovMax)
        {
            return Errors.Fail(Errno.EMSGSIZE);
        }

        iov = FileIo.ReadIovecs(t, BinaryPrimitives.ReadUInt64LittleEndian(raw[16..]), (int)count);
        if (iov is null)
        {
            return Errors.EFAULT;
        }

        return iov.Any(v => v.Length < 0) ? Errors.EINVAL : 0;
    }

    /// <summary>
    /// Sends the bytes of <paramref name="iov"/>: to the socket a datagram's address names,
    /// else the peer. A stream goes in pieces of <see cref="MaxTransfer"/> (the fds with the
    /// first); a message goes whole.
    /// </summary>
    private static long Send(Task t, int fd, (ulong Base, long Length)[] iov, int flags, ulong name, long nameLength, ulong control, ulong controlLength)
    {
        var r = Sockets.Get(t, fd, out var socket);
        if (r < 0)
        {
            return r;
        }

        if ((flags & MessageFlags.Oob) != 0)
        {
            return Errors.Fail(Errno.EOPNOTSUPP);
        }

        var s = socket!;
        var total = Math.Min(iov.Sum(v => v.Length), 0x7FFFF000);
        if (s.Type != UnixSocket.Stream && total > MaxTransfer)
        {
            return Errors.Fail(Errno.EMSGSIZE);
        }

        r = ReadControl(t, control, controlLength, out var files, out var cred);
        if (r < 0)
        {
            return r;
        }

        var addressed = name != 0 && nameLength != 0;
        UnixSocket? to = null;
        if (addressed && s.Type == UnixSocket.Dgram)
        {
            r = Sockets.FindPeer(t, s, name, nameLength, out to);
            if (r < 0)
            {
                UnixSocket.ReleaseAll(files);
                return r;
            }
        }

        var buffer = new byte[Math.Min(total, MaxTransfer)];
        long done = 0;
        do
        {
            var piece = buffer.AsSpan(0, (int)Math.Min(total - done, buffer.Length));
            if (!FileIo.CopyGuest(t, iov, done, piece, toGuest: false))
            {
                UnixSocket.ReleaseAll(files);
                return done > 0 ? done : Errors.EFAULT;
            }

            var n = s.Send(t, piece, flags, to, addressed, files, cred);
            files = null;
            if (n < 0)
            {
                return done > 0 ? done : n;
            }

            done += n;
            if (n < piece.Length)
            {
                break;
            }
        }
        while (done < total);

        return done;
    }

    /// <summary>
    /// __scm_send(): SCM_RIGHTS fds (EBADF for one not open, EINVAL past SCM_MAX_FD) each
    /// take a reference; SCM_CREDENTIALS must be the sender's own unless it is privileged
    /// (EPERM). Without them a message carries the sender's pid and real ids.
    /// </summary>
    private static long ReadControl(Task t, ulong address, ulong length, out OpenFile[]? files, out UnixCredentials cred)
    {
        files = null;
        cred = UnixCredentials.SenderOf(t);
        if (length == 0)
        {
            return 0;
        }

        if (length > MaxControl)
        {
            return Errors.Fail(Errno.ENOBUFS);
        }

        var raw = new byte[length];
        if (!t.CopyIn(address, raw))
        {
            return Errors.EFAULT;
        }

        var taken = new List<OpenFile>();
        var r = ParseControl(t, raw, taken, ref cred);
        if (r < 0)
        {
            UnixSocket.ReleaseAll([.. taken]);
            return r;
        }

        files = taken.Count > 0 ? [.. taken] : null;
        return 0;
    }

    private static long ParseControl(Task t, byte[] raw, List<OpenFile> taken, ref UnixCredentials cred)
    {
        for (var at = 0; at + CmsgHeader <= raw.Length;)
        {
            var length = BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(at));
            if (length < CmsgHeader || length > (ulong)(raw.Length - at))
            {
                return Errors.EINVAL;
            }

            var level = BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(at + 8));
            var type = BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(at + 12));
            var data = raw.AsSpan(at + CmsgHeader, (int)length - CmsgHeader);
            if (level == SolSocket && type == ScmRights)
            {
                if (taken.Count + (data.Length / 4) > MaxFdsPerMessage)
                {
                    return Errors.EINVAL;
                }

                for (var i = 0; i + 4 <= data.Length; i += 4)
                {
                    if (t.Group.Fds.Get(BinaryPrimitives.ReadInt32LittleEndian(data[i..])) is not { } file)
                    {
                        return Errors.EBADF;
                    }

                    file.AddReference();
                    taken.Add(file);
                }
            }
            else if (level == SolSocket && type == ScmCredentials)
            {
                if (data.Length != UcredSize)
                {
                    return Errors.EINVAL;
                }

                cred = new UnixCredentials(BinaryPrimitives.ReadInt32LittleEndian(data), BinaryPrimitives.ReadUInt32LittleEndian(data[4..]), BinaryPrimitives.ReadUInt32LittleEndian(data[8..]));
                if (!MayClaim(t, cred))
                {
                    return Errors.Fail(Errno.EPERM);
                }
            }
            else if (level == SolSocket)
            {
                return Errors.EINVAL;
            }

            at += Align((int)length);
        }

        return 0;
    }

    /// <summary>scm_check_creds(): one's own pid, and ids among one's real, effective and saved ones, unless privileged.</summary>
    private static bool MayClaim(Task t, UnixCredentials claimed)
    {
        var c = t.Cred;
        return (claimed.Pid == t.Group.Pid || c.IsPrivileged) &&
            (claimed.Uid == c.Uid || claimed.Uid == c.Euid || claimed.Uid == c.Suid || c.IsPrivileged) &&
            (claimed.Gid == c.Gid || claimed.Gid == c.Egid || claimed.Gid == c.Sgid || c.IsPrivileged);
    }

    /// <summary>CMSG_ALIGN: control messages start at multiples of sizeof(long).</summary>
    private static int Align(int length) => (length + 7) & ~7;

    /// <summary>Receives into the guest buffers of <paramref name="iov"/>.</summary>
    private static long Receive(Task t, int fd, (ulong Base, long Length)[] iov, int flags, ReceivedExtras extras)
    {
        var r = Sockets.Get(t, fd, out var socket);
        if (r < 0)
        {
            return r;
        }

        if ((flags & MessageFlags.Oob) != 0)
        {
            return Errors.Fail(Errno.EOPNOTSUPP);
        }

        var buffer = new byte[Math.Min(iov.Sum(v => v.Length), MaxTransfer)];
        r = socket!.Receive(t, buffer, flags, extras);
        if (r > 0 && !FileIo.CopyGuest(t, iov, 0, buffer.AsSpan(0, (int)Math.Min(r, buffer.Length)), toGuest: true))
        {
            return Errors.EFAULT;
        }

        return r;
    }

    /// <summary>
    /// Writes the ancillary data into <paramref name="control"/> (scm_recv): SCM_CREDENTIALS,
    /// then SCM_RIGHTS with as many fds as fit, installed as new fds (close-on-exec with
    /// MSG_CMSG_CLOEXEC); what does not fit is closed and MSG_CTRUNC set. Returns the bytes used.
    /// </summary>
    private static int PutControl(Task t, ReceivedExtras extras, Span<byte> control, bool cloexec, ref int outFlags)
    {
        var used = 0;
        if (extras.Cred is { } cred)
        {
            if (control.Length - used < CmsgHeader + UcredSize)
            {
                outFlags |= MessageFlags.ControlTruncated;
            }
            else
            {
                var payload = control[(used + CmsgHeader)..];
                BinaryPrimitives.WriteInt32LittleEndian(payload, cred.Pid);
                BinaryPrimitives.WriteUInt32LittleEndian(payload[4..], cred.Uid);
                BinaryPrimitives.WriteUInt32LittleEndian(payload[8..], cred.Gid);
                used += PutHeader(control[used..], ScmCredentials, UcredSize);
            }
        }

        if (extras.Files.Count == 0)
        {
            return used;
        }

        var room = Math.Max(0, (control.Length - used - CmsgHeader) / 4);
        var installed = 0;
        foreach (var file in extras.Files)
        {
            if (installed >= room)
            {
                file.Release();
                outFlags |= MessageFlags.ControlTruncated;
                continue;
            }

            var fd = t.Group.Fds.Add(file, cloexec);
            if (fd < 0)
            {
                outFlags |= MessageFlags.ControlTruncated;
                room = 0;
                continue;
            }

            BinaryPrimitives.WriteInt32LittleEndian(control[(used + CmsgHeader + (installed * 4))..], fd);
            installed++;
        }

        return installed > 0 ? used + PutHeader(control[used..], ScmRights, installed * 4) : used;
    }

    /// <summary>A cmsghdr for <paramref name="length"/> bytes of data; the space it takes, cut to what is left.</summary>
    private static int PutHeader(Span<byte> at, int type, int length)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(at, (ulong)(CmsgHeader + length));
        BinaryPrimitives.WriteInt32LittleEndian(at[8..], SolSocket);
        BinaryPrimitives.WriteInt32LittleEndian(at[12..], type);
        return Math.Min(Align(CmsgHeader + length), at.Length);
    }
}
