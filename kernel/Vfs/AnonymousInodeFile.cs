namespace UserModeOS.Kernel.Vfs;

/// <summary>
/// An open file description on the one inode anon_inode_getfd() hands out (fs/anon_inodes.c):
/// inotify, epoll and eventfd fds. Its mode is 0600 with no file type, /proc/self/fd shows
/// "anon_inode:" and the name, and seeking succeeds and changes nothing (noop_llseek()).
/// </summary>
public abstract class AnonymousInodeFile : OpenFile
{
    protected AnonymousInodeFile(string name, int flags)
        : base("anon_inode:" + name, flags)
    {
    }

    public override long Seek(long offset, int whence) => 0;

    public override Errno Stat(out StatInfo stat)
    {
        stat = new StatInfo { Mode = 0x180, Links = 1, BlockSize = 4096, Inode = 1, Device = 0xD };
        return Errno.None;
    }
}
