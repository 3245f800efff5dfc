using UserModeOS.Kernel.Vfs;
using FifoInode = (UserModeOS.Kernel.Vfs.IFileSystem FileSystem, ulong Device, ulong Inode);

namespace UserModeOS.Kernel.Ipc;

/// <summary>
/// The named pipes of one kernel (fifo(7)). As on Linux the pipe belongs to the inode, not to
/// the filesystem (inode->i_pipe): every filesystem's fifos are opened here, so a host fifo
/// is never opened on the host (which could block a host thread for good). The pipe is made
/// by the first open of the inode and dropped, with anything still buffered, when the last
/// open file description on it closes. An inode is (its filesystem, st_dev, st_ino).
/// </summary>
public sealed class FifoTable
{
    private readonly Dictionary<FifoInode, Fifo> _fifos = new();

    /// <summary>
    /// open(2) of the fifo at <paramref name="path"/> in <paramref name="fs"/> (fs/pipe.c
    /// fifo_open): O_RDONLY waits for a writer and O_WRONLY for a reader (interruptibly),
    /// O_NONBLOCK readers do not wait, O_NONBLOCK writers without a reader get ENXIO, and
    /// O_RDWR never waits.
    /// </summary>
    public Errno Open(Task? caller, IFileSystem fs, string path, int flags, uint mode, out OpenFile? file)
    {
        file = null;
        if ((flags & OpenFlags.Directory) != 0)
        {
            return Errno.ENOTDIR;
        }

        if ((flags & OpenFlags.AccessMode) == OpenFlags.AccessMode)
        {
            return Errno.EINVAL;
        }

        // The fifo's inode, held so that fstat shows it and its (st_dev, st_ino) cannot change under us.
        var e = fs.Open(path, OpenFlags.Path | OpenFlags.NoFollow, 0, caller, out var inode);
        if (e != Errno.None)
        {
            return e;
        }

        e = inode!.Stat(out var st);
        if (e != Errno.None || (st.Mode & InodeMode.TypeMask) != InodeMode.Fifo)
        {
            // Renamed over since the walk: open what the name holds now.
            inode.Release();
            return e != Errno.None ? e : fs.Open(path, flags, mode, caller, out file);
        }

        FifoInode key = (fs, st.Device, st.Inode);
        Fifo? fifo;
        lock (_fifos)
        {
            if (!_fifos.TryGetValue(key, out fifo))
            {
                fifo = new Fifo(key);
                _fifos.Add(key, fifo);
            }

            fifo.Files++;
        }

        e = fifo.Open(caller, flags, out var writerOpensSeen);
        if (e != Errno.None)
        {
            Put(fifo);
            inode.Release();
            return e;
        }

        file = new FifoFile(this, fifo, fs, inode, path, flags, writerOpensSeen);
        return Errno.None;
    }

    /// <summary>One open of <paramref name="fifo"/> is over; the last one drops its pipe.</summary>
    private void Put(Fifo fifo)
    {
        lock (_fifos)
        {
            if (--fifo.Files == 0)
            {
                _fifos.Remove(fifo.Inode);
            }
        }
    }

    /// <summary>A fifo inode's pipe with Linux's open counters (struct pipe_inode_info).</summary>
    private sealed class Fifo(FifoInode inode)
    {
        public FifoInode Inode { get; } = inode;

        public Pipe Pipe { get; } = new();

        /// <summary>Opens begun on the fifo (pipe->files), under the table's lock.</summary>
        public int Files;

        /// <summary>r_counter and w_counter: how many readers and writers ever opened it, under the pipe's lock.</summary>
        private int _readerOpens, _writerOpens;

        public int WriterOpens
        {
            get
            {
                lock (Pipe.Queue.SyncRoot)
                {
                    return _writerOpens;
                }
            }
        }

        /// <summary>
        /// Counts the new reader and/or writer and, for O_RDONLY or O_WRONLY without the other
        /// kind open, waits for a partner (wait_for_partner: until one more of the other kind has
        /// opened, even if it closed again since). <paramref name="writerOpensSeen"/> is what a
        /// non-blocking reader opened without a writer remembers (Linux's f_pipe), so that poll
        /// reports no POLLHUP before a writer came.
        /// </summary>
        public Errno Open(Task? task, int flags, out int writerOpensSeen)
        {
            writerOpensSeen = 0;
            var nonBlocking = (flags & OpenFlags.NonBlock) != 0;
            var reader = (flags & OpenFlags.AccessMode) != OpenFlags.WriteOnly;
            var writer = (flags & OpenFlags.AccessMode) != OpenFlags.ReadOnly;
            var queue = Pipe.Queue;
            lock (queue.SyncRoot)
            {
                if (!reader && nonBlocking && Pipe.Readers == 0)
                {
                    return Errno.ENXIO;
                }

                if (reader)
                {
                    _readerOpens++;
                    Pipe.Readers++;
                }

                if (writer)
                {
                    _writerOpens++;
                    Pipe.Writers++;
                }

                queue.WakeAll();
                if ((reader && writer) || (reader ? Pipe.Writers : Pipe.Readers) > 0)
                {
                    return Errno.None;
                }

                if (nonBlocking)
                {
                    // Only a reader gets here: a non-blocking writer without readers got ENXIO.
                    writerOpensSeen = _writerOpens;
                    return Errno.None;
                }

                var seen = reader ? _writerOpens : _readerOpens;
                var r = queue.Wait(task, () => (reader ? _writerOpens : _readerOpens) != seen);
                if (r == 0)
                {
                    return Errno.None;
                }

                // Interrupted: this open never happened (the counts of opens stay, as on Linux).
                if (reader)
                {
                    Pipe.Readers--;
                }
                else
                {
                    Pipe.Writers--;
                }

                queue.WakeAll();
                return (Errno)(-r);
            }
        }
    }

    /// <summary>An open fifo: a pipe end whose stat is the fifo's inode, and whose path is the fifo's.</summary>
    private sealed class FifoFile : PipeEnd
    {
        private readonly FifoTable _table;
        private readonly Fifo _fifo;
        private readonly IFileSystem _fs;
        private readonly OpenFile _inode;
        private readonly int _writerOpensSeen;

        public FifoFile(FifoTable table, Fifo fifo, IFileSystem fs, OpenFile inode, string path, int flags, int writerOpensSeen)
            : base(fifo.Pipe, flags, path)
        {
            _table = table;
            _fifo = fifo;
            _fs = fs;
            _inode = inode;
            _writerOpensSeen = writerOpensSeen;
        }

        /// <summary>pipe_poll: a reader that opened before any writer sees no POLLHUP until a writer has come (and gone).</summary>
        public override int Poll()
        {
            lock (Pipe.Queue.SyncRoot)
            {
                var events = base.Poll();
                return CanRead && _fifo.WriterOpens == _writerOpensSeen ? events & ~PollEvents.Hup : events;
            }
        }

        public override Errno Stat(out StatInfo stat) => _inode.Stat(out stat);

        // Its attributes are the fifo inode's on its filesystem, not the pipe's; that filesystem
        // decides how its own file reaches them (overlay copies a lower one up by path).

        public override Errno? Chmod(uint mode) => _fs.Chmod(_inode, mode);

        public override Errno? Chown(int uid, int gid) => _fs.Chown(_inode, uid, gid);

        public override Errno? Utimens((long Seconds, long Nanos) access, (long Seconds, long Nanos) modify) => _fs.Utimens(_inode, access, modify);

        public override Errno? StatFs(out StatFsInfo info) => _fs.StatFs(_inode, out info);

        protected override void Close()
        {
            base.Close();
            _table.Put(_fifo);
            _inode.Release();
        }
    }
}
