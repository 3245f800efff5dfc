namespace UserModeOS.Kernel.Vfs;

/// <summary>A process's file descriptor table: fd -> open file description plus FD_CLOEXEC.</summary>
public sealed class FdTable
{
    /// <summary>RLIMIT_NOFILE's default soft limit.</summary>
    public const int MaxFds = 1024;

    private readonly Lock _lock = new();
    private readonly List<(OpenFile? File, bool CloseOnExec)> _fds = new();
    private int _users = 1;

    /// <summary>The lock table holding POSIX record locks this table (its process) owns, if it ever took one.</summary>
    public FileLocks? Locks { get; set; }

    /// <summary>Drops the table's reference to a closed fd's file; closing any fd releases the owner's POSIX locks on that file.</summary>
    private void Dropped(OpenFile file)
    {
        Locks?.ClosedByFdTable(this, file);
        file.Release();
    }

    /// <summary>One more process shares this table (CLONE_FILES without CLONE_THREAD).</summary>
    public void AddUser() => Interlocked.Increment(ref _users);

    /// <summary>A process stopped using the table; the last one closes every fd.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _users) == 0)
        {
            CloseAll();
        }
    }

    public OpenFile? Get(int fd)
    {
        lock (_lock)
        {
            return fd >= 0 && fd < _fds.Count ? _fds[fd].File : null;
        }
    }

    public bool GetCloseOnExec(int fd)
    {
        lock (_lock)
        {
            return fd >= 0 && fd < _fds.Count && _fds[fd].CloseOnExec;
        }
    }

    public bool SetCloseOnExec(int fd, bool value)
    {
        lock (_lock)
        {
            if (fd < 0 || fd >= _fds.Count || _fds[fd].File is null)
            {
                return false;
            }

            _fds[fd] = (_fds[fd].File, value);
            return true;
        }
    }

    /// <summary>Installs at the lowest free fd >= <paramref name="minimum"/>; takes over the caller's reference.</summary>
    public int Add(OpenFile file, bool closeOnExec, int minimum = 0)
    {
        lock (_lock)
        {
            for (var fd = minimum; fd < MaxFds; fd++)
            {
                if (fd >= _fds.Count)
                {
                    while (_fds.Count < fd)
                    {
                        _fds.Add((null, false));
                    }

                    _fds.Add((file, closeOnExec));
                    return fd;
                }

                if (_fds[fd].File is null)
                {
                    _fds[fd] = (file, closeOnExec);
                    return fd;
                }
            }
        }

        file.Release();
        return -(int)Errno.EMFILE;
    }

    /// <summary>Installs at exactly <paramref name="fd"/>, closing what was there (dup2).</summary>
    public int Set(int fd, OpenFile file, bool closeOnExec)
    {
        if (fd < 0 || fd >= MaxFds)
        {
            file.Release();
            return -(int)Errno.EBADF;
        }

        OpenFile? old;
        lock (_lock)
        {
            while (_fds.Count <= fd)
            {
                _fds.Add((null, false));
            }

            old = _fds[fd].File;
            _fds[fd] = (file, closeOnExec);
        }

        if (old is not null)
        {
            Dropped(old);
        }

        return fd;
    }

    public int Close(int fd)
    {
        OpenFile? old;
        lock (_lock)
        {
            if (fd < 0 || fd >= _fds.Count || _fds[fd].File is null)
            {
                return -(int)Errno.EBADF;
            }

            old = _fds[fd].File;
            _fds[fd] = (null, false);
        }

        Dropped(old!);
        return 0;
    }

    /// <summary>A copy sharing every open file description (fork without CLONE_FILES).</summary>
    public FdTable Clone()
    {
        var copy = new FdTable();
        lock (_lock)
        {
            foreach (var entry in _fds)
            {
                entry.File?.AddReference();
                copy._fds.Add(entry);
            }
        }

        return copy;
    }

    /// <summary>Closes the FD_CLOEXEC fds (execve).</summary>
    public void CloseOnExec()
    {
        lock (_lock)
        {
            for (var fd = 0; fd < _fds.Count; fd++)
            {
                if (_fds[fd].CloseOnExec && _fds[fd].File is { } f)
                {
                    _fds[fd] = (null, false);
                    Dropped(f);
                }
            }
        }
    }

    /// <summary>The open fds in ascending order.</summary>
    public List<int> OpenFds()
    {
        var list = new List<int>();
        lock (_lock)
        {
            for (var fd = 0; fd < _fds.Count; fd++)
            {
                if (_fds[fd].File is not null)
                {
                    list.Add(fd);
                }
            }
        }

        return list;
    }

    public void CloseAll()
    {
        List<OpenFile> files = new();
        lock (_lock)
        {
            foreach (var entry in _fds)
            {
                if (entry.File is { } f)
                {
                    files.Add(f);
                }
            }

            _fds.Clear();
        }

        foreach (var f in files)
        {
            Dropped(f);
        }
    }
}
