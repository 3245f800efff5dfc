using UserModeOS.Conformance.Harness;
using UserModeOS.Hosting;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// The wall around `--root LOWER --overlay UPPER`: a guest tries to leave LOWER or to change
/// it — symlinks already in LOWER pointing out (absolute, relative, ".." chains) followed for
/// reading and writing, symlinks of its own pointing out, hard links to lower files written
/// through, writes through /proc/self/root and cwd, dirfd-relative walks, a symlink swapped in
/// during walks, renames of lower directories, and chmod, chown, utimes, truncate, xattrs,
/// unlink and shared writable mappings of lower files. The sentinel outside both folders is
/// never read or changed, nothing appears outside them, and LOWER stays byte-for-byte the
/// same (content, modes, owners, mtimes, link counts); the changes land in UPPER.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OverlayEscapeTests
{
    private FolderRoot _root = null!;
    private TempDir _upper = null!;

    [SetUp]
    public void Build()
    {
        Assume.That(File.Exists(FolderRoot.Busybox), "busybox-static is not installed");
        _root = new FolderRoot();
        _upper = new TempDir("umos-overlay-escape-upper");
        var stamp = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.CreateSymbolicLink(_root["abs"], _root.Sentinel);
        File.CreateSymbolicLink(_root["abs-outer"], _root.Outer);
        File.CreateSymbolicLink(_root["up"], "../../../../../../..");
        Directory.CreateDirectory(_root["work/deep"]);
        File.CreateSymbolicLink(_root["work/deep/rel"], "../../..");
        File.CreateSymbolicLink(_root["work/deep/chain"], "rel/../../../..");
        foreach (var name in new[] { "file.txt", "linked.txt", "proc.txt", "mode.txt", "owner.txt", "times.txt", "trunc.txt", "xattr.txt", "gone.txt", "mapped.txt", "moved.txt" })
        {
            File.WriteAllText(_root["work/" + name], "lower " + name + "\n");
            File.SetUnixFileMode(_root["work/" + name], (UnixFileMode)0x1A0);
            File.SetLastWriteTimeUtc(_root["work/" + name], stamp);
        }

        Assert.That(Native.Run(["/bin/ln", _root["work/linked.txt"], _root["work/linked-twin.txt"]]).ExitCode, Is.Zero);
        Directory.CreateDirectory(_root["lowerdir/inner"]);
        File.WriteAllText(_root["lowerdir/inner/x"], "lower x\n");
        File.CreateSymbolicLink(_root["lowerdir/out"], _root.Outer);
        Directory.CreateDirectory(_root["race/d"]);
        File.WriteAllText(_root["race/d/sentinel.txt"], "inside\n");
        File.CreateSymbolicLink(_root["race/evil"], _root.Outer);
        Directory.SetLastWriteTimeUtc(_root["work"], stamp);
    }

    [TearDown]
    public void Remove()
    {
        _root.Dispose();
        _upper.Dispose();
    }

    private RunResult RunOverlay(string[] argv, string workdir = "/") =>
        _root.Run(argv, workdir, options: new BoxOptions { RootPath = _root.Root, OverlayUpper = _upper.Path, Log = TestContext.Out });

    /// <summary>Nothing outside LOWER and UPPER was read, changed or made, and LOWER is as it was.</summary>
    private void AssertWallHeld(RunResult run, string lowerBefore)
    {
        _root.AssertWallHeld(run);
        Assert.That(OverlayTests.Snapshot(_root.Root), Is.EqualTo(lowerBefore), "the lower folder changed");
    }

    private const string Source = EscapeTests.Probes + """

        #include <sys/mman.h>
        #include <sys/time.h>
        #include <sys/xattr.h>

        /* Opens for writing (creating, truncating) and writes; the wall decides where it lands. */
        static void try_write(const char *path, int flags)
        {
            int fd = open(path, O_WRONLY | flags, 0666);
            if (fd < 0) { printf("write %s: %s\n", path, strerror(errno)); return; }
            printf("write %s: %zd\n", path, write(fd, "guest was here\n", 15));
            close(fd);
        }

        static void result(const char *what, long r) { printf("%s: %s\n", what, r < 0 ? strerror(errno) : "ok"); }

        static void show(const char *path)
        {
            char buf[256] = {0};
            int fd = open(path, O_RDONLY);
            int n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
            if (fd >= 0) close(fd);
            printf("%s holds: %s", path, n < 0 ? "(nothing)\n" : buf);
        }

        static volatile int stop;
        static const char *swap_a, *swap_b;

        static void *swapper(void *arg)
        {
            (void)arg;
            while (!stop) syscall(SYS_renameat2, AT_FDCWD, swap_a, AT_FDCWD, swap_b, 2 /* RENAME_EXCHANGE */);
            return NULL;
        }

        /* Walks through a directory that a thread keeps swapping with a symlink pointing out. */
        static void race(const char *dir, const char *evil)
        {
            char path[256], up[256];
            snprintf(path, sizeof path, "%s/sentinel.txt", dir);
            snprintf(up, sizeof up, "%s/../../sentinel.txt", dir);
            swap_a = dir; swap_b = evil; stop = 0;
            pthread_t t;
            pthread_create(&t, NULL, swapper, NULL);
            for (int i = 0; i < 1500 && !leaks; i++) {
                char buf[64] = {0};
                int fd = open(path, i % 2 ? O_RDONLY : O_RDWR);
                if (fd >= 0) {
                    read(fd, buf, sizeof buf - 1);
                    if (i % 2 == 0) pwrite(fd, "raced\n", 6, 0);
                    close(fd);
                    if (strstr(buf, "SENTINEL")) { leaks++; printf("race %s: LEAK\n", dir); }
                }
                fd = open(up, O_RDONLY);
                if (fd >= 0) { memset(buf, 0, sizeof buf); read(fd, buf, sizeof buf - 1); close(fd); if (strstr(buf, "SENTINEL")) { leaks++; printf("race %s ..: LEAK\n", dir); } }
                fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
                if (fd >= 0) { write(fd, "x", 1); close(fd); }
            }
            stop = 1;
            pthread_join(t, NULL);
            printf("race %s done\n", dir);
        }

        int main(int argc, char **argv)
        {
            outer = argv[1];
            sentinel = argv[2];
            char path[4096];

            /* symlinks already in the lower folder, followed for reading */
            try_open("/abs");
            try_open("/abs-outer/sentinel.txt");
            try_open("/up/sentinel.txt");
            snprintf(path, sizeof path, "/up%s", sentinel);
            try_open(path);
            try_open("/work/deep/rel/sentinel.txt");
            try_open("/work/deep/chain/sentinel.txt");
            try_open("/lowerdir/out/sentinel.txt");
            try_open("/../sentinel.txt");
            try_open("/work/../../../sentinel.txt");

            /* ... and for writing, creating, truncating, changing */
            try_write("/abs", O_CREAT | O_TRUNC);
            try_write("/abs-outer/sentinel.txt", O_CREAT | O_APPEND);
            try_write("/up/sentinel.txt", O_CREAT | O_TRUNC);
            try_write(path, O_TRUNC);
            try_write("/work/deep/rel/sentinel.txt", O_CREAT);
            try_write("/lowerdir/out/escaped-by-guest", O_CREAT | O_EXCL);
            result("chmod /abs", chmod("/abs", 0777));
            result("chmod /up/sentinel.txt", chmod("/up/sentinel.txt", 0777));
            result("truncate /abs-outer/sentinel.txt", truncate("/abs-outer/sentinel.txt", 0));
            result("utimes /work/deep/rel/sentinel.txt", utimes("/work/deep/rel/sentinel.txt", NULL));
            result("unlink /up/sentinel.txt", unlink("/up/sentinel.txt"));
            result("rename /abs-outer/sentinel.txt", rename("/abs-outer/sentinel.txt", "/stolen"));
            result("mkdir /abs-outer/escaped-by-guest", mkdir("/abs-outer/escaped-by-guest", 0755));
            result("symlink /up/escaped-by-guest", symlink("x", "/up/escaped-by-guest"));
            result("lchown /abs", lchown("/abs", getuid(), getgid()));
            result("unlink /abs", unlink("/abs"));
            try_open("/abs");

            /* symlinks of the guest's own pointing out */
            result("symlink abs", symlink(sentinel, "/new-abs"));
            snprintf(path, sizeof path, "%s/..", outer);
            result("symlink outer", symlink(path, "/new-outer"));
            result("symlink up", symlink("../../../../../..", "/work/new-up"));
            try_open("/new-abs");
            try_open("/new-outer/sentinel.txt");
            try_open("/work/new-up/sentinel.txt");
            try_write("/new-abs", O_CREAT | O_TRUNC);
            try_write("/work/new-up/sentinel.txt", O_APPEND);
            try_write("/new-outer/escaped-by-guest", O_CREAT);

            /* hard links to lower files, written through: copy-up, never the lower file */
            result("link file.txt", link("/work/file.txt", "/work/hl"));
            try_write("/work/hl", O_APPEND);
            show("/work/file.txt");
            try_write("/work/linked.txt", O_APPEND);
            show("/work/linked-twin.txt");
            result("link to sentinel", link("/abs-outer/sentinel.txt", "/hl-out"));
            result("linkat follow", linkat(AT_FDCWD, "/new-abs", AT_FDCWD, "/hl-out2", AT_SYMLINK_FOLLOW));

            /* writes through /proc/self/root and /proc/self/cwd */
            try_write("/proc/self/root/work/proc.txt", O_TRUNC);
            try_open("/proc/self/root/../sentinel.txt");
            try_write("/proc/self/root/../sentinel.txt", O_APPEND);
            chdir("/lowerdir/inner");
            try_write("/proc/self/cwd/x", O_APPEND);
            try_write("/proc/self/cwd/../../../sentinel.txt", O_CREAT | O_APPEND);
            try_open("/proc/self/cwd/../../../../sentinel.txt");
            chdir("/");

            /* dirfd-relative walks from lower directories */
            int d = open("/race", O_RDONLY | O_DIRECTORY);
            try_read("openat(/race, ../sentinel.txt)", openat(d, "../sentinel.txt", O_RDONLY));
            try_read("openat(/race, evil/sentinel.txt)", openat(d, "evil/sentinel.txt", O_RDONLY));
            result("openat(/race, d/new) create", openat(d, "d/new", O_WRONLY | O_CREAT, 0644));
            result("mkdirat(/race, evil/escaped-by-guest)", mkdirat(d, "evil/escaped-by-guest", 0755));
            result("symlinkat(outer, /race, evil2)", symlinkat(outer, d, "evil2"));
            try_read("openat(/race, evil2/sentinel.txt)", openat(d, "evil2/sentinel.txt", O_RDONLY));
            result("renameat(/race, evil2 -> d/evil2)", renameat(d, "evil2", d, "d/evil2"));
            try_read("openat(/race, d/evil2/sentinel.txt)", openat(d, "d/evil2/sentinel.txt", O_RDONLY));
            int p = open("/up", O_PATH);
            try_read("openat(O_PATH /up, sentinel.txt)", openat(p, "sentinel.txt", O_RDONLY));
            result("fchmodat(/up, sentinel.txt)", fchmodat(p, "sentinel.txt", 0777, 0));

            /* renames of lower directories and files */
            result("rename /lowerdir", rename("/lowerdir", "/renamed"));
            result("exchange /lowerdir /work", syscall(SYS_renameat2, AT_FDCWD, "/lowerdir", AT_FDCWD, "/work", 2));
            result("rename /work/moved.txt", rename("/work/moved.txt", "/lowerdir/moved.txt"));
            result("rename onto lower", rename("/work/hl", "/work/file.txt"));
            result("rmdir /lowerdir/inner", rmdir("/lowerdir/inner"));

            /* attribute changes of lower files */
            result("chmod", chmod("/work/mode.txt", 04777));
            result("chown", chown("/work/owner.txt", getuid(), getgid()));
            result("lchown symlink", lchown("/work/deep/rel", getuid(), getgid()));
            struct timeval tv[2] = { { 1000, 0 }, { 2000, 0 } };
            result("utimes", utimes("/work/times.txt", tv));
            result("utimes dir", utimes("/work/deep", tv));
            result("truncate", truncate("/work/trunc.txt", 2));
            result("setxattr", setxattr("/work/xattr.txt", "user.guest", "v", 1, 0));
            result("lsetxattr symlink", lsetxattr("/work/deep/rel", "user.guest", "v", 1, 0));
            result("removexattr", removexattr("/work/xattr.txt", "user.guest"));
            result("unlink", unlink("/work/gone.txt"));
            result("open O_TRUNC read-only", open("/work/file.txt", O_RDONLY | O_TRUNC));
            result("mkfifo", mkfifo("/lowerdir/inner/fifo", 0644));

            /* an unnamed file in a lower directory, then named there */
            int tmp = open("/lowerdir/inner", O_TMPFILE | O_RDWR, 0600);
            result("O_TMPFILE in a lower directory", tmp);
            if (tmp >= 0) {
                write(tmp, "unnamed\n", 8);
                snprintf(path, sizeof path, "/proc/self/fd/%d", tmp);
                result("linkat O_TMPFILE", linkat(AT_FDCWD, path, AT_FDCWD, "/lowerdir/inner/named", AT_SYMLINK_FOLLOW));
                close(tmp);
                show("/lowerdir/inner/named");
            }

            /* a lower file open read-only: no change through the fd or a shared mapping */
            int ro = open("/work/mapped.txt", O_RDONLY);
            result("write ro", write(ro, "x", 1));
            result("ftruncate ro", ftruncate(ro, 0));
            result("fchmod ro", fchmod(ro, 0600));
            result("fsetxattr ro", fsetxattr(ro, "user.guest", "v", 1, 0));
            result("pwrite ro", pwrite(ro, "x", 1, 0));
            result("fallocate ro", fallocate(ro, 0, 0, 8192));
            int src = open("/work/file.txt", O_RDONLY);
            result("copy_file_range into ro", copy_file_range(src, NULL, ro, NULL, 4, 0));
            close(src);
            snprintf(path, sizeof path, "/proc/self/fd/%d", ro);
            try_write(path, O_APPEND);
            void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
            result("mmap shared writable", m == MAP_FAILED ? -1 : 0);
            m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
            result("mprotect shared writable", mprotect(m, 4096, PROT_READ | PROT_WRITE));
            char *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
            if (priv != MAP_FAILED) { memcpy(priv, "PRIVATE", 7); msync(priv, 4096, MS_SYNC); munmap(priv, 4096); }
            int rw = open("/work/mapped.txt", O_RDWR);
            char *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
            if (shared != MAP_FAILED) { memcpy(shared, "SHARED!", 7); msync(shared, 4096, MS_SYNC); munmap(shared, 4096); }
            close(rw);
            close(ro);
            show("/work/mapped.txt");

            /* symlinks swapped in during walks: a lower pair (the overlay cannot exchange a
               lower directory) and a pair the guest made in the upper */
            race("/race/d", "/race/evil");
            mkdir("/race2", 0755);
            mkdir("/race2/d", 0755);
            int f = open("/race2/d/sentinel.txt", O_WRONLY | O_CREAT, 0644);
            write(f, "inside\n", 7);
            close(f);
            symlink(outer, "/race2/evil");
            race("/race2/d", "/race2/evil");

            printf("leaks: %d\n", leaks);
            return leaks;
        }
        """;

    [TestCase("gcc")]
    [TestCase("musl-gcc")]
    public void NoRouteLeadsOutOrChangesLower(string compiler)
    {
        _root.Install(CProgram.Compile(Source, compiler, "-pthread"), "/bin/escape");
        var before = OverlayTests.Snapshot(_root.Root);
        var run = RunOverlay(["/bin/escape", _root.Outer, _root.Sentinel]);
        Assert.That(run.StdoutText, Does.Contain("leaks: 0"), run.StdoutText + run.StderrText + run.UmosLog);
        Assert.That(run.ExitCode, Is.Zero);
        AssertWallHeld(run, before);

        // The changes happened, in the upper folder.
        Assert.That(run.StdoutText, Does.Contain("/work/file.txt holds: lower file.txt\nguest was here\n"), "a hard link shares its copied-up inode");
        Assert.That(run.StdoutText, Does.Contain("/work/linked-twin.txt holds: lower linked.txt\n"));
        Assert.That(run.StdoutText, Does.Contain("/work/mapped.txt holds: SHARED!apped.txt\nguest was here\n"), "reopened through /proc/self/fd, then mapped shared");
        Assert.That(run.StdoutText, Does.Match("rename /lowerdir: (Invalid c|C)ross-device link"), "overlayfs without redirect_dir cannot move a lower directory");
        Assert.That(File.ReadAllText(Path.Combine(_upper.Path, "work/proc.txt")), Is.EqualTo("guest was here\n"));
        Assert.That(File.ReadAllText(Path.Combine(_upper.Path, "lowerdir/inner/x")), Is.EqualTo("lower x\nguest was here\n"));
        Assert.That(File.GetUnixFileMode(Path.Combine(_upper.Path, "work/mode.txt")), Is.EqualTo((UnixFileMode)0x9FF));
        Assert.That(new FileInfo(Path.Combine(_upper.Path, "work/trunc.txt")).Length, Is.EqualTo(2));
        Assert.That(File.GetLastWriteTimeUtc(Path.Combine(_upper.Path, "work/times.txt")), Is.EqualTo(DateTime.UnixEpoch.AddSeconds(2000)));
    }

    [Test]
    public void BusyboxCannotWalkOutOrChangeLower()
    {
        var before = OverlayTests.Snapshot(_root.Root);
        var script = $"""
            cat /abs /abs-outer/sentinel.txt /up/sentinel.txt /work/deep/rel/sentinel.txt /lowerdir/out/sentinel.txt /proc/self/root/../sentinel.txt
            cd /proc/self/cwd/../..; cat sentinel.txt; pwd; cd /
            ln -s {_root.Sentinel} /s; ln -s {_root.Outer} /o; cp /s /copy; ls /o; find / -name sentinel.txt -xdev | sort
            tar cf /t.tar /o/sentinel.txt /abs; echo gone > /abs; echo gone > /s; touch /o/sentinel.txt /abs-outer/sentinel.txt
            rm -rf /o/sentinel.txt /abs-outer/sentinel.txt /up/sentinel.txt; chmod 777 /abs /up/sentinel.txt
            mv /lowerdir /moved; mv /race/d /race/d2
            echo changed >> /work/file.txt; ln /work/linked.txt /work/hl; echo via-link >> /work/hl; chmod 600 /work/mode.txt; touch /work/times.txt
            rm -rf /race /work/deep; ls /; ls /moved/inner; readlink -f /up/..; realpath /work/deep/rel
            echo done
            """;
        var run = RunOverlay(["/bin/sh", "-c", script]);
        Assert.That(run.StdoutText, Does.Contain("done"), run.StderrText);
        Assert.That(run.StdoutText, Does.Contain("\n/\n"), "pwd must stay at /");
        AssertWallHeld(run, before);
        Assert.That(File.ReadAllText(Path.Combine(_upper.Path, "work/file.txt")), Is.EqualTo("lower file.txt\nchanged\n"));
        Assert.That(File.ReadAllText(Path.Combine(_upper.Path, "moved/inner/x")), Is.EqualTo("lower x\n"));
    }
}
