using UserModeOS.Kernel.Sched;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel.Net;

/// <summary>send(2) and recv(2) flags, and the msg_flags recvmsg(2) reports.</summary>
public static class MessageFlags
{
    public const int Oob = 0x1, Peek = 0x2, ControlTruncated = 0x8, Truncate = 0x20, DontWait = 0x40;
    public const int WaitAll = 0x100, NoSignal = 0x4000, CmsgCloexec = 0x40000000;
}

/// <summary>struct ucred: who sent a message (SCM_CREDENTIALS) or is at the other end (SO_PEERCRED).</summary>
public readonly record struct UnixCredentials(int Pid, uint Uid, uint Gid)
{
    /// <summary>What an unconnected socket's SO_PEERCRED shows.</summary>
    public static readonly UnixCredentials None = new(0, uint.MaxValue, uint.MaxValue);

    /// <summary>init_peercred(): the process and its effective ids.</summary>
    public static UnixCredentials PeerOf(Task task) => new(task.Group.Pid, task.Cred.Euid, task.Cred.Egid);

    /// <summary>scm_set_cred(): the process and its real ids, what a message carries unless the sender names others.</summary>
    public static UnixCredentials SenderOf(Task task) => new(task.Group.Pid, task.Cred.Uid, task.Cred.Gid);
}

/// <summary>One queued message (an sk_buff on a unix socket): bytes, who sent them and any fds in flight.</summary>
internal sealed class UnixMessage(byte[] data, UnixSocket sender, UnixCredentials cred, OpenFile[]? files)
{
    public byte[] Data { get; } = data;

    /// <summary>Its truesize: what it costs the sender's buffer (sk_wmem_alloc) until it is read whole or dropped.</summary>
    public int Charge { get; } = TrueSize(data.Length);

    /// <summary>Bytes a stream read already took from the front.</summary>
    public int Offset;

    public int Length => Data.Length - Offset;

    /// <summary>The socket whose send buffer the bytes are charged to (sk_wmem_alloc) until read.</summary>
    public UnixSocket Sender { get; } = sender;

    public UnixAddress? From { get; } = sender.Address;

    public UnixCredentials Cred { get; } = cred;

    /// <summary>SCM_RIGHTS: open file descriptions in flight, one reference each.</summary>
    public OpenFile[]? Files { get; set; } = files;

    /// <summary>
    /// An sk_buff's truesize as Linux computes it: struct sk_buff plus a kmalloc'd head (a
    /// power-of-two size class holding the cache-aligned data and struct skb_shared_info);
    /// data past a page's worth of head lives in whole pages. This is what makes a send buffer
    /// hold fewer small messages than its size in bytes.
    /// </summary>
    private static int TrueSize(int length)
    {
        const int SkBuff = 256, SharedInfo = 320, Page = 4096;
        var head = ((length + 63) & ~63) + SharedInfo;
        return head <= Page
            ? (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)head) + SkBuff
            : Page + ((length - (Page - SharedInfo) + Page - 1) & ~(Page - 1)) + SkBuff;
    }
}

/// <summary>What recvmsg(2) gets beside the bytes: the sender's name, fds, credentials and truncation.</summary>
public sealed class ReceivedExtras
{
    public UnixAddress? From { get; set; }

    /// <summary>The files of SCM_RIGHTS, one reference each, for the receiver to install or release.</summary>
    public List<OpenFile> Files { get; } = new();

    /// <summary>SCM_CREDENTIALS of the data, when the receiver asked for them (SO_PASSCRED).</summary>
    public UnixCredentials? Cred { get; set; }

    /// <summary>A datagram was longer than the buffer (MSG_TRUNC in msg_flags); its full length.</summary>
    public int FullLength { get; set; } = -1;
}

/// <summary>
/// An AF_UNIX socket (unix(7); net/unix/af_unix.c), which is also its open file description:
/// SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET. A connected socket queues what it sends on its
/// peer's receive queue, charged to its own send buffer until read. A listening socket's
/// queue holds embryo sockets: connect(2) makes the server's end of the connection at once
/// and the client is connected from then on; accept(2) hands the embryo out. All state
/// changes under the kernel's <see cref="UnixNames.Queue"/> lock.
/// </summary>
public sealed class UnixSocket : OpenFile
{
    public const int Stream = 1, Dgram = 2, SeqPacket = 5;

    /// <summary>net.core.wmem_default and rmem_default.</summary>
    private const int DefaultBufferSize = 212992;

    /// <summary>net.core.somaxconn: listen(2)'s backlog is capped at it.</summary>
    private const int MaxBacklog = 4096;

    /// <summary>sk_max_ack_backlog of a datagram socket: net.unix.max_dgram_qlen.</summary>
    private const int MaxDatagramQueue = 10;

    /// <summary>RCV_SHUTDOWN and SEND_SHUTDOWN: shutdown(2)'s SHUT_RD/SHUT_WR/SHUT_RDWR are these minus one.</summary>
    public const int ReceiveShutdown = 1, SendShutdown = 2, ShutdownMask = 3;

    private static long _lastInode;

    private readonly UnixNames _names;
    private readonly List<UnixMessage> _receive = new();
    private readonly uint _uid, _gid;
    private int _backlog;
    private int _shutdown;
    private int _sendAllocated;
    private Errno _error;

    public UnixSocket(UnixNames names, int type, int statusFlags, Task creator)
        : base("", OpenFlags.ReadWrite | statusFlags)
    {
        _names = names;
        Type = type;
        Inode = (ulong)Interlocked.Increment(ref _lastInode);
        Path = $"socket:[{Inode}]";
        _uid = creator.Cred.Fsuid;
        _gid = creator.Cred.Fsgid;
    }

    /// <summary>socketpair(2): two sockets connected to each other, each seeing its creator as the peer.</summary>
    public static (UnixSocket, UnixSocket) Pair(UnixNames names, int type, int statusFlags, Task creator)
    {
        var a = new UnixSocket(names, type, statusFlags, creator);
        var b = new UnixSocket(names, type, statusFlags, creator);
        a.Peer = b;
        b.Peer = a;
        a.IsConnected = b.IsConnected = true;
        a.PeerCred = b.PeerCred = UnixCredentials.PeerOf(creator);
        return (a, b);
    }

    public int Type { get; }

    public ulong Inode { get; }

    /// <summary>The connected peer: the other end of a stream or seqpacket connection, the default destination of a datagram socket.</summary>
    public UnixSocket? Peer { get; private set; }

    public UnixAddress? Address { get; internal set; }

    /// <summary>The socket inode a filesystem name binds it to.</summary>
    internal (IFileSystem FileSystem, ulong Device, ulong Inode)? NameInode { get; set; }

    public bool IsListening { get; private set; }

    public bool IsConnected { get; private set; }

    /// <summary>SOCK_DEAD: closed; its peer sees end of file and senders ECONNREFUSED.</summary>
    public bool IsDead { get; private set; }

    public UnixCredentials PeerCred { get; private set; } = UnixCredentials.None;

    /// <summary>SO_SNDBUF: how much (by truesize) this socket may have sent and not yet read; a blocking send waits for room.</summary>
    public int SendBuffer { get; set; } = DefaultBufferSize;

    /// <summary>SO_RCVBUF: kept for getsockopt; as on Linux, what an AF_UNIX socket may queue is bounded by its senders' buffers.</summary>
    public int ReceiveBuffer { get; set; } = DefaultBufferSize;

    /// <summary>SO_PASSCRED: received data comes with SCM_CREDENTIALS.</summary>
    public bool PassCred { get; set; }

    /// <summary>SO_RCVTIMEO and SO_SNDTIMEO: how long a blocking call waits before EAGAIN; zero waits for ever.</summary>
    public TimeSpan ReceiveTimeout { get; set; }

    public TimeSpan SendTimeout { get; set; }

    /// <summary>Options socket(7) keeps for every socket that mean nothing to an AF_UNIX one (SO_REUSEADDR, SO_KEEPALIVE), by number.</summary>
    public Dictionary<int, int> KeptOptions { get; } = new();

    private bool ConnectionOriented => Type != Dgram;

    private bool NonBlocking => (Flags & OpenFlags.NonBlock) != 0;

    private WaitQueue Queue => _names.Queue;

    /// <summary>SO_ERROR: the pending error, cleared by reading it.</summary>
    public Errno TakeError()
    {
        lock (Queue.SyncRoot)
        {
            var e = _error;
            _error = Errno.None;
            return e;
        }
    }

    /// <summary>listen(2): a bound stream or seqpacket socket not connected (EINVAL otherwise); a second call changes the backlog.</summary>
    public Errno Listen(Task task, int backlog)
    {
        if (!ConnectionOriented)
        {
            return Errno.EOPNOTSUPP;
        }

        lock (Queue.SyncRoot)
        {
            if (Address is null || IsConnected)
            {
                return Errno.EINVAL;
            }

            _backlog = (uint)backlog > MaxBacklog ? MaxBacklog : backlog;
            if (!IsListening)
            {
                IsListening = true;
                PeerCred = UnixCredentials.PeerOf(task);
            }

            Queue.WakeAll();
            return Errno.None;
        }
    }

    /// <summary>
    /// connect(2) of a stream or seqpacket socket to listening <paramref name="server"/>
    /// (unix_stream_connect): waits while the server's backlog is full (EAGAIN when
    /// non-blocking), then makes the server's end and queues it for accept(2).
    /// </summary>
    public Errno Connect(Task task, UnixSocket server)
    {
        var deadline = DeadlineAfter(SendTimeout);
        lock (Queue.SyncRoot)
        {
            while (true)
            {
                if (IsConnected)
                {
                    return Errno.EISCONN;
                }

                if (IsListening)
                {
                    return Errno.EINVAL;
                }

                if (server.IsDead || !server.IsListening)
                {
                    return Errno.ECONNREFUSED;
                }

                if (server._receive.Count <= server._backlog)
                {
                    break;
                }

                if (NonBlocking)
                {
                    return Errno.EAGAIN;
                }

                var r = Block(task, () => IsConnected || server.IsDead || !server.IsListening || server._receive.Count <= server._backlog, deadline);
                if (r != 0)
                {
                    return (Errno)(-r);
                }
            }

            if (PassCred)
            {
                _names.Autobind(this);
            }

            // The server's end gets the listener's name and sees the client as its peer; the client sees the listener's owner.
            var embryo = new UnixSocket(_names, Type, 0, task) { Address = server.Address, Peer = this, IsConnected = true, PeerCred = UnixCredentials.PeerOf(task) };
            Peer = embryo;
            IsConnected = true;
            PeerCred = server.PeerCred;
            server.Enqueue(new UnixMessage([], this, default, [embryo]));
            Queue.WakeAll();
            return Errno.None;
        }
    }

    /// <summary>connect(2) of a datagram socket: the default destination; null (AF_UNSPEC) dissolves it.</summary>
    public Errno ConnectDatagram(UnixSocket? target)
    {
        lock (Queue.SyncRoot)
        {
            if (target is not null && !MaySendTo(target))
            {
                return Errno.EPERM;
            }

            if (target is not null && PassCred)
            {
                _names.Autobind(this);
            }

            Peer = target;
            IsConnected = target is not null;
            Queue.WakeAll();
            return Errno.None;
        }
    }

    /// <summary>unix_may_send(): a datagram socket connected elsewhere takes nothing from us.</summary>
    private bool MaySendTo(UnixSocket target) => target.Peer is null || target.Peer == this;

    /// <summary>accept(2): the oldest connection, waiting for one unless non-blocking (EAGAIN).</summary>
    public long Accept(Task task, out UnixSocket? accepted)
    {
        accepted = null;
        if (!ConnectionOriented)
        {
            return -(long)Errno.EOPNOTSUPP;
        }

        var deadline = DeadlineAfter(ReceiveTimeout);
        lock (Queue.SyncRoot)
        {
            if (!IsListening)
            {
                return -(long)Errno.EINVAL;
            }

            if (_receive.Count == 0)
            {
                if (NonBlocking)
                {
                    return -(long)Errno.EAGAIN;
                }

                var r = Block(task, () => _receive.Count > 0 || !IsListening, deadline);
                if (r != 0)
                {
                    return r;
                }

                if (_receive.Count == 0)
                {
                    return -(long)Errno.EINVAL;
                }
            }

            var message = _receive[0];
            accepted = (UnixSocket)message.Files![0];
            Consumed(message, 0);
            _receive.RemoveAt(0);
            Queue.WakeAll();
            return 0;
        }
    }

    /// <summary>shutdown(2): <paramref name="mode"/> is RCV_SHUTDOWN and/or SEND_SHUTDOWN; a connection's peer gets the mirror image.</summary>
    public void Shutdown(int mode)
    {
        lock (Queue.SyncRoot)
        {
            _shutdown |= mode;
            if (Peer is { } peer && ConnectionOriented)
            {
                peer._shutdown |= ((mode & ReceiveShutdown) != 0 ? SendShutdown : 0) | ((mode & SendShutdown) != 0 ? ReceiveShutdown : 0);
            }

            Queue.WakeAll();
        }
    }

    /// <summary>
    /// sendmsg(2) of <paramref name="data"/> to <paramref name="to"/> (a sendto(2) address's
    /// socket, else the peer). A stream is cut into pieces as its send buffer frees; datagrams
    /// and seqpackets go whole (EMSGSIZE past the send buffer). Writing to a connection whose
    /// reader is gone is EPIPE with SIGPIPE unless MSG_NOSIGNAL. <paramref name="files"/> hold
    /// one reference each, which the call takes over.
    /// </summary>
    public long Send(Task task, ReadOnlySpan<byte> data, int flags, UnixSocket? to, bool addressed, OpenFile[]? files, UnixCredentials cred)
    {
        var wait = NonBlocking || (flags & MessageFlags.DontWait) != 0 ? (Deadline?)null : DeadlineAfter(SendTimeout);
        lock (Queue.SyncRoot)
        {
            var r = Type == Stream
                ? SendStream(task, data, flags, addressed, wait, ref files, cred)
                : SendMessage(task, data, Type == Dgram ? to ?? Peer : Peer, wait, ref files, cred);
            if (r > 0)
            {
                Queue.WakeAll();
            }

            ReleaseAll(files);
            return r;
        }
    }

    private long SendStream(Task task, ReadOnlySpan<byte> data, int flags, bool addressed, Deadline? wait, ref OpenFile[]? files, UnixCredentials cred)
    {
        if (addressed)
        {
            return -(long)(IsConnected ? Errno.EISCONN : Errno.EOPNOTSUPP);
        }

        if (!IsConnected)
        {
            return -(long)Errno.ENOTCONN;
        }

        var sent = 0;
        while (sent < data.Length)
        {
            var peer = Peer!;
            if ((_shutdown & SendShutdown) != 0 || peer.IsDead || (peer._shutdown & ReceiveShutdown) != 0)
            {
                if ((flags & MessageFlags.NoSignal) == 0)
                {
                    task.Kernel.SendSignal(task, SigInfo.FromUser(Signals.SIGPIPE, SigInfo.SiUser, task.Group.Pid));
                }

                return sent > 0 ? sent : -(long)Errno.EPIPE;
            }

            // sock_alloc_send_pskb(): wait while the buffer is spent; the last piece may overshoot it.
            if (_sendAllocated >= SendBuffer)
            {
                if (wait is not { } deadline)
                {
                    return sent > 0 ? sent : -(long)Errno.EAGAIN;
                }

                var r = Block(task, () => _sendAllocated < SendBuffer || (_shutdown & SendShutdown) != 0 || peer.IsDead || (peer._shutdown & ReceiveShutdown) != 0, deadline);
                if (r != 0)
                {
                    return sent > 0 ? sent : r;
                }

                continue;
            }

            // Pieces of at most half the buffer (unix_stream_sendmsg); the fds ride on the first.
            var n = Math.Min(data.Length - sent, (SendBuffer / 2) - 64);
            peer.Enqueue(new UnixMessage(data.Slice(sent, n).ToArray(), this, cred, files));
            files = null;
            sent += n;
        }

        return sent;
    }

    /// <summary>unix_dgram_sendmsg(): one message, to a datagram socket's destination or a seqpacket's peer.</summary>
    private long SendMessage(Task task, ReadOnlySpan<byte> data, UnixSocket? target, Deadline? wait, ref OpenFile[]? files, UnixCredentials cred)
    {
        if (Type == SeqPacket && !IsConnected)
        {
            return -(long)Errno.ENOTCONN;
        }

        if (target is null)
        {
            return -(long)Errno.ENOTCONN;
        }

        if (data.Length > SendBuffer - 32)
        {
            return -(long)Errno.EMSGSIZE;
        }

        if (PassCred || target.PassCred)
        {
            _names.Autobind(this);
        }

        while (true)
        {
            if (target.IsDead)
            {
                if (Type == SeqPacket)
                {
                    return -(long)Errno.EPIPE;
                }

                // A datagram socket whose destination closed loses it (unix(7): ECONNREFUSED).
                if (Peer == target)
                {
                    Peer = null;
                    IsConnected = false;
                }

                return -(long)Errno.ECONNREFUSED;
            }

            if (!MaySendTo(target))
            {
                return -(long)Errno.EPERM;
            }

            if ((target._shutdown & ReceiveShutdown) != 0)
            {
                return -(long)Errno.EPIPE;
            }

            // A receiver not connected back to us takes only so many datagrams (max_dgram_qlen).
            bool Full() => (target.Peer != this && target._receive.Count > MaxDatagramQueue) || _sendAllocated >= SendBuffer;
            if (!Full())
            {
                break;
            }

            if (wait is not { } deadline)
            {
                return -(long)Errno.EAGAIN;
            }

            var r = Block(task, () => target.IsDead || (target._shutdown & ReceiveShutdown) != 0 || !Full(), deadline);
            if (r != 0)
            {
                return r;
            }
        }

        target.Enqueue(new UnixMessage(data.ToArray(), this, cred, files));
        files = null;
        return data.Length;
    }

    private static Deadline DeadlineAfter(TimeSpan timeout) => timeout == TimeSpan.Zero ? Deadline.Never : Deadline.After(timeout);

    /// <summary>
    /// Waits on the socket lock for <paramref name="condition"/> (0), or returns what the call
    /// fails with: EAGAIN when a SO_RCVTIMEO/SO_SNDTIMEO deadline passes, and a signal's
    /// -ERESTARTSYS, which becomes EINTR without a restart when a timeout was set (sock_intr_errno).
    /// </summary>
    private long Block(Task task, Func<bool> condition, Deadline deadline)
    {
        var r = Queue.Wait(task, condition, deadline);
        return r == -(int)Errno.ETIMEDOUT ? -(long)Errno.EAGAIN
            : r == -(int)Errno.ERESTARTSYS && !deadline.IsNever ? -(long)Errno.EINTR
            : r;
    }

    private void Enqueue(UnixMessage message)
    {
        message.Sender._sendAllocated += message.Charge;
        _receive.Add(message);
    }

    /// <summary>Bytes of a message are read; once it is read whole its sender's buffer has its room back.</summary>
    private static void Consumed(UnixMessage message, int bytes)
    {
        message.Offset += bytes;
        if (message.Length == 0)
        {
            message.Sender._sendAllocated -= message.Charge;
        }
    }

    /// <summary>
    /// recvmsg(2) into <paramref name="buffer"/>: a stream gathers queued pieces (but never
    /// past fds, nor across different senders' credentials when SO_PASSCRED asks for them) and
    /// waits for at least one byte, or all with MSG_WAITALL; a datagram or seqpacket gives one
    /// message, cut to the buffer (the rest is lost unless MSG_PEEK). 0 is end of file.
    /// </summary>
    public long Receive(Task task, Span<byte> buffer, int flags, ReceivedExtras? extras)
    {
        var wait = NonBlocking || (flags & MessageFlags.DontWait) != 0 ? (Deadline?)null : DeadlineAfter(ReceiveTimeout);
        lock (Queue.SyncRoot)
        {
            var r = Type == Stream ? ReceiveStream(task, buffer, flags, wait, extras) : ReceiveMessage(task, buffer, flags, wait, extras);
            Queue.WakeAll();
            return r;
        }
    }

    /// <summary>Waits for something to read, end of file or an error: 0 when there is data, else what to return.</summary>
    private long WaitForData(Task task, Deadline? wait)
    {
        while (_receive.Count == 0)
        {
            if (_error != Errno.None)
            {
                return -(long)TakeError();
            }

            if ((_shutdown & ReceiveShutdown) != 0)
            {
                return 1;
            }

            if (wait is not { } deadline)
            {
                return -(long)Errno.EAGAIN;
            }

            var r = Block(task, () => _receive.Count > 0 || _error != Errno.None || (_shutdown & ReceiveShutdown) != 0, deadline);
            if (r != 0)
            {
                return r;
            }
        }

        return 0;
    }

    private long ReceiveStream(Task task, Span<byte> buffer, int flags, Deadline? wait, ReceivedExtras? extras)
    {
        if (!IsConnected)
        {
            return -(long)Errno.EINVAL;
        }

        var peek = (flags & MessageFlags.Peek) != 0;
        var target = (flags & MessageFlags.WaitAll) != 0 ? buffer.Length : Math.Min(1, buffer.Length);
        var copied = 0;
        var index = 0;
        UnixCredentials? cred = null;
        while (copied < buffer.Length)
        {
            if (index >= _receive.Count)
            {
                // Peeking past the queue would find nothing new to wait for.
                if (copied >= target || (peek && copied > 0))
                {
                    break;
                }

                var w = WaitForData(task, wait);
                if (w != 0)
                {
                    return copied > 0 ? copied : w < 0 ? w : 0;
                }

                continue;
            }

            var message = _receive[index];
            if (copied == 0 && extras is not null)
            {
                extras.From = message.From;
            }

            // Never glue data from different writers when the reader wants to know who wrote it.
            if (PassCred)
            {
                if (cred is { } first && first != message.Cred)
                {
                    break;
                }

                cred = message.Cred;
            }

            var n = Math.Min(message.Length, buffer.Length - copied);
            message.Data.AsSpan(message.Offset, n).CopyTo(buffer[copied..]);
            copied += n;
            var files = TakeFiles(message, peek, extras);
            if (peek)
            {
                index++;
            }
            else
            {
                Consumed(message, n);
                if (message.Length > 0)
                {
                    break;
                }

                _receive.RemoveAt(0);
            }

            if (files)
            {
                break;
            }
        }

        if (extras is not null && PassCred)
        {
            extras.Cred = cred;
        }

        return copied;
    }

    /// <summary>Hands a message's fds to the reader (copies of the references when peeking); true when it had some.</summary>
    private static bool TakeFiles(UnixMessage message, bool peek, ReceivedExtras? extras)
    {
        if (message.Files is not { } files)
        {
            return false;
        }

        foreach (var file in files)
        {
            if (peek && extras is not null)
            {
                file.AddReference();
            }

            if (extras is not null)
            {
                extras.Files.Add(file);
            }
            else if (!peek)
            {
                file.Release();
            }
        }

        if (!peek)
        {
            message.Files = null;
        }

        return true;
    }

    private long ReceiveMessage(Task task, Span<byte> buffer, int flags, Deadline? wait, ReceivedExtras? extras)
    {
        if (Type == SeqPacket && !IsConnected)
        {
            return -(long)Errno.ENOTCONN;
        }

        // Shut for reading, a seqpacket connection is at its end; a datagram socket has nothing
        // for a non-blocking read and an empty datagram for a blocking one (skb_recv_datagram).
        var w = WaitForData(task, wait);
        if (w != 0)
        {
            return w < 0 ? w : Type == Dgram && wait is null ? -(long)Errno.EAGAIN : 0;
        }

        var message = _receive[0];
        var peek = (flags & MessageFlags.Peek) != 0;
        var n = Math.Min(message.Length, buffer.Length);
        message.Data.AsSpan(0, n).CopyTo(buffer);
        TakeFiles(message, peek, extras);
        if (extras is not null)
        {
            extras.From = message.From;
            extras.Cred = PassCred ? message.Cred : null;
            extras.FullLength = message.Length;
        }

        var full = message.Length;
        if (!peek)
        {
            Consumed(message, full);
            _receive.RemoveAt(0);
        }

        return (flags & MessageFlags.Truncate) != 0 ? full : n;
    }

    /// <summary>FIONREAD/SIOCINQ (unix_inq_len): a connection's unread bytes, a datagram socket's next message.</summary>
    public long InQueue()
    {
        lock (Queue.SyncRoot)
        {
            if (IsListening)
            {
                return -(long)Errno.EINVAL;
            }

            return ConnectionOriented ? _receive.Sum(m => m.Length) : _receive.Count > 0 ? _receive[0].Length : 0;
        }
    }

    /// <summary>SIOCOUTQ: bytes sent and not yet read.</summary>
    public long OutQueue()
    {
        lock (Queue.SyncRoot)
        {
            return _sendAllocated;
        }
    }

    public override long Read(Task task, Span<byte> buffer) => Receive(task, buffer, 0, null);

    public override long Write(Task task, ReadOnlySpan<byte> data) => Send(task, data, 0, null, false, null, UnixCredentials.SenderOf(task));

    public override bool IsStream => true;

    public override WaitQueue PollQueue => Queue;

    /// <summary>unix_poll() for streams, unix_dgram_poll() for the rest.</summary>
    public override int Poll()
    {
        lock (Queue.SyncRoot)
        {
            var events = _error != Errno.None ? PollEvents.Err : 0;
            if (_shutdown == ShutdownMask)
            {
                events |= PollEvents.Hup;
            }

            if ((_shutdown & ReceiveShutdown) != 0)
            {
                events |= PollEvents.RdHup | PollEvents.In | PollEvents.RdNorm;
            }

            if (_receive.Count > 0)
            {
                events |= PollEvents.In | PollEvents.RdNorm;
            }

            if (ConnectionOriented && !IsConnected && !IsListening)
            {
                events |= PollEvents.Hup;
            }

            // unix_writable(): not listening and under a quarter of the send buffer in flight;
            // a datagram's destination must also have room in its queue.
            var writable = !IsListening && _sendAllocated * 4 <= SendBuffer;
            if (writable && !ConnectionOriented && Peer is { } other && other.Peer != this && other._receive.Count > MaxDatagramQueue)
            {
                writable = false;
            }

            return writable ? events | PollEvents.Out | PollEvents.WrNorm | PollEvents.WrBand : events;
        }
    }

    public override long Ioctl(Task task, uint request, ulong argument)
    {
        const uint Fionread = 0x541B, Siocoutq = 0x5411;
        var value = request switch
        {
            Fionread => InQueue(),
            Siocoutq => OutQueue(),
            _ => -(long)Errno.ENOTTY,
        };
        if (value < 0)
        {
            return value;
        }

        Span<byte> b = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(b, (int)value);
        return task.CopyOut(argument, b) ? 0 : -(long)Errno.EFAULT;
    }

    /// <summary>A sockfs inode: S_IFSOCK with every permission, owned by its creator.</summary>
    public override Errno Stat(out StatInfo stat)
    {
        stat = new StatInfo { Mode = InodeMode.Socket | 0x1FF, Links = 1, BlockSize = 4096, Inode = Inode, Device = 0x8, Uid = _uid, Gid = _gid };
        return Errno.None;
    }

    /// <summary>
    /// unix_release_sock(): the socket is dead; a connection's peer sees end of file both ways,
    /// and ECONNRESET if this end left data unread or was never accepted. Pending connections
    /// of a listener are dropped the same way, and fds in flight to it are closed.
    /// </summary>
    protected override void Close() => ReleaseSock(embryo: false);

    private void ReleaseSock(bool embryo)
    {
        var dropped = new List<OpenFile>();
        lock (Queue.SyncRoot)
        {
            IsDead = true;
            _shutdown = ShutdownMask;
            _names.Unbind(this);
            if (Peer is { } peer && ConnectionOriented)
            {
                peer._shutdown = ShutdownMask;
                if (_receive.Count > 0 || embryo)
                {
                    peer._error = Errno.ECONNRESET;
                }
            }

            Peer = null;
            foreach (var message in _receive)
            {
                Consumed(message, message.Length);
                dropped.AddRange(message.Files ?? []);
            }

            _receive.Clear();
            Queue.WakeAll();
        }

        // Outside the lock: the last reference to a socket in flight closes it in turn.
        foreach (var file in dropped)
        {
            if (IsListening && file is UnixSocket pending)
            {
                pending.ReleaseSock(embryo: true);
            }
            else
            {
                file.Release();
            }
        }
    }

    /// <summary>Drops one reference to each file (fds in flight that were never delivered).</summary>
    public static void ReleaseAll(OpenFile[]? files)
    {
        foreach (var file in files ?? [])
        {
            file.Release();
        }
    }
}
