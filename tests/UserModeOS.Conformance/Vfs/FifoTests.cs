using UserModeOS.Conformance.Harness;
using UserModeOS.Conformance.SyscallTests;
using UserModeOS.Hosting;
using UserModeOS.Hosts.Linux;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// Named pipes (fifo(7)) on a host folder (the working directory) and on tmpfs (/tmp): the
/// open rendezvous of readers and writers, O_NONBLOCK and O_RDWR opens, end of file, EPIPE,
/// poll, an open interrupted by a signal (EINTR, or restarted with SA_RESTART), fstat and
/// /proc/self/fd of the open fifo, and the buffer dropped with its last opener.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class FifoTests(string compiler)
{
    [Test]
    public void FifoCalls() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        #include <limits.h>
        #include <poll.h>
        #include <sys/mman.h>
        #include <sys/select.h>
        #include <sys/wait.h>

        static void reap(pid_t pid)
        {
            int status;
            waitpid(pid, &status, 0);
            SAY("child %s %d\n", WIFEXITED(status) ? "exited" : "killed", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        }

        static int revents(int fd, short events)
        {
            struct pollfd p = { fd, events, 0 };
            return poll(&p, 1, 0) < 0 ? -errno : p.revents;
        }

        static void drain(int fd)
        {
            char buf[128];
            long n, total = 0;
            while ((n = read(fd, buf, sizeof buf)) > 0) { SAY("read %.*s", (int)n, buf); total += n; }
            SAY("then %ld%s%s (%ld bytes)\n", n, n < 0 ? " " : "", n < 0 ? errname(errno) : "", total);
        }

        /* SIGALRMs taken, in memory a child shares. */
        static volatile int *alarms;
        static void on_alarm(int sig) { (void)sig; (*alarms)++; }

        /* SIGALRM every 20 ms until alarms_off: one lands while the open waits, however late it starts. */
        static void alarms_on(int flags)
        {
            struct sigaction sa = { 0 };
            sa.sa_handler = on_alarm;
            sa.sa_flags = flags;
            sigaction(SIGALRM, &sa, NULL);
            struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
            setitimer(ITIMER_REAL, &it, NULL);
        }

        static void alarms_off(void)
        {
            struct itimerval it = { { 0, 0 }, { 0, 0 } };
            setitimer(ITIMER_REAL, &it, NULL);
        }

        static void fifo(const char *p)
        {
            char buf[128], link[PATH_MAX], want[PATH_MAX];
            struct stat st, fst;
            unlink(p);
            CHECK(mkfifo(p, 0640));
            CHECK(mkfifo(p, 0640));
            CHECK(stat(p, &st));
            SAY("fifo %d mode %o\n", S_ISFIFO(st.st_mode), st.st_mode & 0777);

            /* O_NONBLOCK: a writer without a reader gets ENXIO; a reader opens at once and sees EOF. */
            CHECK(open(p, O_WRONLY | O_NONBLOCK));
            int r = open(p, O_RDONLY | O_NONBLOCK);
            SAY("reader %d, poll before any writer %#x\n", r >= 0, revents(r, POLLIN));
            CHECK(read(r, buf, sizeof buf));
            int w = open(p, O_WRONLY | O_NONBLOCK);
            SAY("writer %d, poll %#x %#x\n", w >= 0, revents(r, POLLIN), revents(w, POLLOUT));
            CHECK(write(w, "abc", 3));
            SAY("poll with data %#x\n", revents(r, POLLIN));
            CHECK(fstat(w, &fst));
            SAY("fstat: fifo %d same inode %d mode %o\n", S_ISFIFO(fst.st_mode), fst.st_ino == st.st_ino && fst.st_dev == st.st_dev, fst.st_mode & 0777);
            int n = -1;
            CHECK(ioctl(r, FIONREAD, &n));
            SAY("FIONREAD %d\n", n);

            /* /proc/self/fd shows the fifo's path. */
            snprintf(buf, sizeof buf, "/proc/self/fd/%d", r);
            n = readlink(buf, link, sizeof link - 1);
            link[n < 0 ? 0 : n] = 0;
            if (p[0] == '/') snprintf(want, sizeof want, "%s", p);
            else { getcwd(want, sizeof want - 64); strcat(want, "/"); strcat(want, p); }
            SAY("fd link is the path: %d\n", strcmp(link, want) == 0);

            /* select like poll */
            fd_set rd, wr;
            FD_ZERO(&rd); FD_ZERO(&wr); FD_SET(r, &rd); FD_SET(w, &wr);
            struct timeval zero = { 0, 0 };
            CHECK(select(w > r ? w + 1 : r + 1, &rd, &wr, NULL, &zero));

            /* The last writer gone: the reader drains the data, then sees end of file and POLLHUP. */
            close(w);
            SAY("poll after the writer closed %#x\n", revents(r, POLLIN));
            drain(r);

            /* The last reader gone: EPIPE (SIGPIPE ignored), and POLLERR on the writer. */
            w = open(p, O_WRONLY | O_NONBLOCK);
            close(r);
            signal(SIGPIPE, SIG_IGN);
            CHECK(write(w, "x", 1));
            SAY("writer poll without readers %#x\n", revents(w, POLLOUT));
            close(w);
            signal(SIGPIPE, SIG_DFL);

            /* Without SIG_IGN a write without readers kills the writer with SIGPIPE. */
            pid_t pid = fork();
            if (pid == 0) {
                int rr = open(p, O_RDONLY | O_NONBLOCK);
                int ww = open(p, O_WRONLY);
                close(rr);
                write(ww, "x", 1);
                _exit(0);
            }
            reap(pid);

            /* O_RDWR never waits; what it leaves buffered goes with the last opener. */
            int rw = open(p, O_RDWR);
            SAY("rdwr %d poll %#x\n", rw >= 0, revents(rw, POLLIN | POLLOUT));
            CHECK(write(rw, "left", 4));
            int r2 = open(p, O_RDONLY);
            CHECK(read(r2, buf, 2));
            close(rw);
            drain(r2);
            close(r2);
            rw = open(p, O_RDWR);
            CHECK(write(rw, "dropped", 7));
            close(rw);
            rw = open(p, O_RDWR | O_NONBLOCK);
            CHECK(read(rw, buf, sizeof buf));
            close(rw);

            /* Blocking opens meet: the reader waits for the writer, and the writer for the reader. */
            pid = fork();
            if (pid == 0) {
                int ww = open(p, O_WRONLY);
                dprintf(ww, "hello from the writer\n");
                _exit(0);
            }
            r = open(p, O_RDONLY);
            SAY("blocking reader %d\n", r >= 0);
            drain(r);
            close(r);
            reap(pid);
            pid = fork();
            if (pid == 0) {
                int rr = open(p, O_RDONLY);
                n = read(rr, buf, sizeof buf);
                _exit(n == 14 && memcmp(buf, "to the reader\n", 14) == 0 ? 0 : 1);
            }
            w = open(p, O_WRONLY);
            SAY("blocking writer %d\n", w >= 0);
            CHECK(write(w, "to the reader\n", 14));
            close(w);
            reap(pid);

            /* A signal interrupts a waiting open (EINTR), or restarts it with SA_RESTART. */
            *alarms = 0;
            alarms_on(0);
            CHECK(open(p, O_RDONLY));
            alarms_off();
            SAY("alarmed %d\n", *alarms > 0);
            *alarms = 0;
            pid = fork();
            if (pid == 0) {
                /* The writer comes after a few alarms, so that the reader's open is restarted. */
                while (*alarms < 3) usleep(10000);
                int ww = open(p, O_WRONLY);
                dprintf(ww, "after the restart\n");
                _exit(0);
            }
            alarms_on(SA_RESTART);
            r = open(p, O_RDONLY);
            alarms_off();
            SAY("restarted open %d alarmed %d\n", r >= 0, *alarms >= 3);
            drain(r);
            close(r);
            reap(pid);

            CHECK(open(p, O_RDONLY | O_DIRECTORY));
            CHECK(unlink(p));
        }

        int main(void)
        {
            setvbuf(stdout, NULL, _IONBF, 0);
            alarms = mmap(NULL, sizeof *alarms, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
            umask(022);
            fifo("fifo");
            char tmp[64];
            snprintf(tmp, sizeof tmp, "/tmp/umos-fifo-%d", (int)getpid());
            fifo(tmp);
            return 0;
        }
        """;
}

/// <summary>
/// Named pipes through busybox sh in a folder root: mkfifo, a background writer and a reader
/// meeting in the fifo, in the host folder, in /tmp (tmpfs) and, with --overlay, on a fifo of
/// the lower folder (which the host never opens) and one made in the upper.
/// </summary>
[TestFixture]
public sealed class FifoShellTests
{
    private const string Script = """
        /bin/busybox mkfifo p
        stat -c '%F %a' p
        (echo hi > p &); cat p
        cat p > out & echo there > p; wait; cat out
        { echo one; echo two; } > p & while read line; do echo "got $line"; done < p; wait
        exec 3<> p; echo kept >&3; read word <&3; echo "rdwr $word"; exec 3>&-
        rm p out; ls
        """;

    [Test]
    public void ShellFifosLikeNative()
    {
        Assume.That(File.Exists(FolderRoot.Busybox), "busybox-static is not installed");
        using var root = new FolderRoot();
        using var native = new TempDir("umos-fifo-native");
        var nativeRun = BusyboxFolderTests.NativeBusybox(native.Path, Script);
        var inFolder = root.Run(["/bin/busybox", "sh", "-c", Script], workdir: "/work");
        Assert.That(inFolder.StdoutText, Is.EqualTo(nativeRun.StdoutText), inFolder.StderrText + inFolder.UmosLog);
        Assert.That(inFolder.ExitCode, Is.EqualTo(nativeRun.ExitCode));
        var inTmp = root.Run(["/bin/busybox", "sh", "-c", "mkdir /tmp/f && cd /tmp/f && " + Script]);
        Assert.That(inTmp.StdoutText, Is.EqualTo(nativeRun.StdoutText), inTmp.StderrText + inTmp.UmosLog);
        root.AssertWallHeld(inTmp);
    }

    [Test]
    public void OverlayFifos()
    {
        Assume.That(File.Exists(FolderRoot.Busybox), "busybox-static is not installed");
        using var root = new FolderRoot();
        using var upper = new TempDir("umos-fifo-upper");
        Assert.That(Native.Run([FolderRoot.Busybox, "mkfifo", root["work/lower-fifo"]]).ExitCode, Is.Zero);
        var before = OverlayTests.Snapshot(root.Root);
        var run = root.Run(
            ["/bin/busybox", "sh", "-c", "(echo from-lower > lower-fifo &); cat lower-fifo; " + Script],
            workdir: "/work",
            options: new BoxOptions { RootPath = root.Root, OverlayUpper = upper.Path, Log = TestContext.Out });
        Assert.That(run.StdoutText, Does.StartWith("from-lower\nfifo 644\nhi\nthere\ngot one\ngot two\nrdwr kept\n"), run.StderrText);
        Assert.That(run.ExitCode, Is.Zero, run.StderrText);
        Assert.That(OverlayTests.Snapshot(root.Root), Is.EqualTo(before), "the lower folder changed");
        root.AssertWallHeld(run);
    }
}

/// <summary>
/// hostfs never opens a host fifo (the VFS opens fifos as its own pipes): one that reaches it
/// anyway, renamed in after a walk, is refused at once instead of blocking a host thread.
/// </summary>
[TestFixture]
public sealed class HostFifoTests
{
    [Test]
    public void HostfsRefusesFifosWithoutBlocking()
    {
        Assume.That(OperatingSystem.IsLinux());
        using var folder = new TempDir("umos-host-fifo");
        Assert.That(Native.Run(["/usr/bin/mkfifo", folder["f"]]).ExitCode, Is.Zero);
        folder.Write("plain", "plain\n");
        var fs = new HostFileSystem(folder.Path);
        foreach (var flags in new[] { OpenFlags.ReadOnly, OpenFlags.WriteOnly, OpenFlags.ReadWrite, OpenFlags.ReadOnly | OpenFlags.NonBlock })
        {
            var open = System.Threading.Tasks.Task.Run(() => fs.Open("/f", flags, 0, null, out _));
            Assert.That(open.Wait(TimeSpan.FromSeconds(10)), Is.True, $"opening the host fifo with flags {flags:x} blocked");
            Assert.That(open.Result, Is.EqualTo(Errno.ENXIO), $"flags {flags:x}");
        }

        Assert.That(fs.Open("/f", OpenFlags.Path, 0, null, out var inode), Is.EqualTo(Errno.None));
        Assert.That(inode!.Stat(out var st), Is.EqualTo(Errno.None));
        Assert.That(st.Mode & InodeMode.TypeMask, Is.EqualTo(InodeMode.Fifo));
        inode.Release();
        // Other files are opened without O_NONBLOCK in the end, unless the guest asks for it.
        foreach (var flags in new[] { OpenFlags.ReadOnly, OpenFlags.ReadOnly | OpenFlags.NonBlock })
        {
            Assert.That(fs.Open("/plain", flags, 0, null, out var plain), Is.EqualTo(Errno.None));
            Assert.That(HostStatusFlags(folder["plain"]) & OpenFlags.NonBlock, Is.EqualTo(flags & OpenFlags.NonBlock));
            plain!.Release();
        }
    }

    /// <summary>The status flags of this process's one fd open on <paramref name="path"/> (/proc/self/fdinfo).</summary>
    private static int HostStatusFlags(string path)
    {
        var fd = new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos().Single(link => link.LinkTarget == path).Name;
        var line = File.ReadLines($"/proc/self/fdinfo/{fd}").Single(l => l.StartsWith("flags:", StringComparison.Ordinal));
        return Convert.ToInt32(line["flags:".Length..].Trim(), 8);
    }
}
