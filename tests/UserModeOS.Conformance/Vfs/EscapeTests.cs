using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// The wall: a guest rooted at a folder tries every known way out (symlinks pointing out,
/// ".." chains, /proc/self/root and cwd, dirfd-relative walks, hard links, symlinks swapped
/// in during a walk); none may read, change or create a host file outside the folder.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class EscapeTests
{
    private FolderRoot _root = null!;

    [SetUp]
    public void Build()
    {
        Assume.That(File.Exists(FolderRoot.Busybox), "busybox-static is not installed");
        _root = new FolderRoot();
    }

    [TearDown]
    public void Remove() => _root.Dispose();

    /// <summary>What the escape programs share: includes, the sentinel's paths and the probes that read through a route.</summary>
    internal const string Probes = """
        #define _GNU_SOURCE
        #include <errno.h>
        #include <fcntl.h>
        #include <pthread.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        #include <sys/stat.h>
        #include <sys/syscall.h>

        static const char *outer, *sentinel;
        static int leaks;

        /* Reads a file the guest can reach and reports whether it is the sentinel. */
        static void try_read(const char *what, int fd)
        {
            char buf[256] = {0};
            if (fd < 0) { printf("%s: %s\n", what, strerror(errno)); return; }
            int n = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (n > 0 && strstr(buf, "SENTINEL")) { leaks++; printf("%s: LEAK\n", what); }
            else printf("%s: read %d bytes, no sentinel\n", what, n);
        }

        static void try_open(const char *path) { try_read(path, open(path, O_RDONLY)); }
        """;

    private const string Source = Probes + """

        static volatile int stop;

        /* Swaps a real directory and a symlink pointing out of the root, as fast as it can. */
        static void *swapper(void *arg)
        {
            (void)arg;
            while (!stop) syscall(SYS_renameat2, AT_FDCWD, "/race/d", AT_FDCWD, "/race/evil", 2 /* RENAME_EXCHANGE */);
            return NULL;
        }

        int main(int argc, char **argv)
        {
            outer = argv[1];
            sentinel = argv[2];
            char path[4096];

            /* absolute and relative symlinks pointing out */
            symlink(sentinel, "/abs");
            try_open("/abs");
            snprintf(path, sizeof path, "%s/..", outer);
            symlink(path, "/abs-outer");
            try_open("/abs-outer/sentinel.txt");
            symlink("../../../../../../..", "/up");
            try_open("/up/sentinel.txt");
            snprintf(path, sizeof path, "/up%s", sentinel);
            try_open(path);
            mkdir("/work/deep", 0755);
            symlink("../../..", "/work/deep/rel");
            try_open("/work/deep/rel/sentinel.txt");

            /* .. chains */
            try_open("/../sentinel.txt");
            try_open("../../../../../../../../sentinel.txt");
            try_open("/work/../../sentinel.txt");
            snprintf(path, sizeof path, "/../../../../..%s", sentinel);
            try_open(path);

            /* a symlink to / and then .. */
            symlink("/", "/rootlink");
            try_open("/rootlink/../sentinel.txt");
            try_open("/rootlink/../../sentinel.txt");
            chdir("/rootlink");
            try_open("../sentinel.txt");
            chdir("/");

            /* /proc/self/root and /proc/self/cwd */
            try_open("/proc/self/root/../sentinel.txt");
            try_open("/proc/self/root/../../sentinel.txt");
            chdir("/work");
            try_open("/proc/self/cwd/../../sentinel.txt");
            snprintf(path, sizeof path, "/proc/self/root%s", sentinel);
            try_open(path);
            chdir("/");

            /* openat relative to a dirfd */
            int root = open("/", O_RDONLY | O_DIRECTORY);
            try_read("openat(/, ../sentinel.txt)", openat(root, "../sentinel.txt", O_RDONLY));
            int work = open("/work", O_RDONLY | O_DIRECTORY);
            try_read("openat(/work, ../../sentinel.txt)", openat(work, "../../sentinel.txt", O_RDONLY));
            int p = open("/up", O_PATH);
            try_read("openat(O_PATH /up, sentinel.txt)", openat(p, "sentinel.txt", O_RDONLY));

            /* hard links to outside files */
            printf("link abs: %d\n", link("/abs", "/hl1") == 0 ? 0 : -errno);
            printf("linkat follow abs: %d\n", linkat(AT_FDCWD, "/abs", AT_FDCWD, "/hl2", AT_SYMLINK_FOLLOW) == 0 ? 0 : -errno);
            printf("link ..: %d\n", link("/../sentinel.txt", "/hl3") == 0 ? 0 : -errno);
            try_open("/hl1");
            try_open("/hl2");

            /* writes, metadata changes and creations through the same routes */
            int w = open("/up/sentinel.txt", O_WRONLY | O_TRUNC);
            printf("write open: %s\n", w < 0 ? strerror(errno) : "opened");
            w = open("/abs", O_WRONLY | O_CREAT | O_TRUNC, 0666);
            if (w >= 0) { write(w, "x", 1); close(w); }
            chmod("/abs", 0777);
            chmod("/up/sentinel.txt", 0777);
            truncate("/abs", 0);
            truncate("/rootlink/../sentinel.txt", 0);
            unlink("/up/sentinel.txt");
            rename("/rootlink/../sentinel.txt", "/stolen");
            mkdir("/up/escaped-by-guest", 0755);
            mkdir("/tmp/../../escaped-by-guest", 0755);
            symlink("x", "/up/escaped-by-guest-link");
            snprintf(path, sizeof path, "%s/escaped-by-guest", outer);
            w = open(path, O_WRONLY | O_CREAT, 0644);
            printf("create outer path: %s\n", w < 0 ? strerror(errno) : "created (inside the root)");

            /* a symlink swapped in during walks */
            mkdir("/race", 0755);
            mkdir("/race/d", 0755);
            int f = open("/race/d/sentinel.txt", O_WRONLY | O_CREAT, 0644);
            write(f, "inside\n", 7);
            close(f);
            symlink(outer, "/race/evil");
            pthread_t t;
            pthread_create(&t, NULL, swapper, NULL);
            int opened = 0, failed = 0;
            for (int i = 0; i < 3000; i++) {
                char buf[64] = {0};
                int fd = open("/race/d/sentinel.txt", O_RDONLY);
                if (fd < 0) { failed++; continue; }
                opened++;
                read(fd, buf, sizeof buf - 1);
                close(fd);
                if (strstr(buf, "SENTINEL")) { leaks++; printf("race: LEAK\n"); break; }
                fd = open("/race/d/../../sentinel.txt", O_RDONLY);
                if (fd >= 0) { read(fd, buf, sizeof buf - 1); close(fd); if (strstr(buf, "SENTINEL")) { leaks++; printf("race ..: LEAK\n"); break; } }
            }
            stop = 1;
            pthread_join(t, NULL);
            printf("race: %d opens\n", opened + failed > 0);
            printf("leaks: %d\n", leaks);
            return leaks;
        }
        """;

    [TestCase("gcc")]
    [TestCase("musl-gcc")]
    public void NoRouteLeadsOut(string compiler)
    {
        _root.Install(CProgram.Compile(Source, compiler, "-pthread"), "/bin/escape");
        var run = _root.Run(["/bin/escape", _root.Outer, _root.Sentinel]);
        Assert.That(run.StdoutText, Does.Contain("leaks: 0"), run.StdoutText + run.StderrText + run.UmosLog);
        Assert.That(run.ExitCode, Is.Zero);
        _root.AssertWallHeld(run);
    }

    /// <summary>
    /// Device nodes in the root folder lead to UserModeOS's own drivers by major and minor, never
    /// to the host's devices: /dev/mem's numbers give ENXIO, /dev/null's our null. The guest
    /// cannot make device nodes in the host folder (EPERM), and those it makes in tmpfs cannot be
    /// opened there (nodev, EACCES).
    /// </summary>
    [Test]
    public void HostDeviceNodesAreNeverOpened()
    {
        Assume.That(Environment.UserName == "root", "making device nodes on the host needs root");
        Directory.CreateDirectory(_root["devs"]);
        foreach (var (name, type, major, minor) in new[] { ("mem", "c", "1", "1"), ("null", "c", "1", "3"), ("disk", "b", "7", "0") })
        {
            var made = Native.Run(["/usr/bin/mknod", _root["devs/" + name], type, major, minor]);
            Assert.That(made.ExitCode, Is.Zero, made.Describe());
        }

        var run = _root.Sh("""
            head -c 1 /devs/mem; echo "mem: $?"
            head -c 1 /devs/disk; echo "disk: $?"
            echo hi > /devs/null; echo "null write: $?"; wc -c < /devs/null
            mknod /devs/new b 7 0; echo "mknod block: $?"
            mknod /devs/new2 c 1 1; echo "mknod char: $?"
            mknod /tmp/null c 1 3; echo "mknod in tmpfs: $?"
            cat /tmp/null; echo "open in tmpfs: $?"
            """);
        Assert.That(run.StdoutText, Is.EqualTo("mem: 1\ndisk: 1\nnull write: 0\n0\nmknod block: 1\nmknod char: 1\nmknod in tmpfs: 0\nopen in tmpfs: 1\n"), run.Describe());
        Assert.That(run.StderrText, Does.Contain("No such device or address").And.Contain("Operation not permitted").And.Contain("Permission denied"));
        Assert.That(File.Exists(_root["devs/new"]) || File.Exists(_root["devs/new2"]), Is.False);
        _root.AssertWallHeld(run);
    }

    [Test]
    public void BusyboxCannotWalkOut()
    {
        var script = $"""
            ln -s / /r; ln -s .. /work/u; ln -s {_root.Sentinel} /s; ln -s {_root.Outer} /o
            cat /r/../sentinel.txt /work/u/u/../sentinel.txt /s /o/sentinel.txt /proc/self/root/../sentinel.txt
            cd /proc/self/cwd/../..; cat sentinel.txt; pwd
            cp /s /copy; ls /o; find / -name sentinel.txt -xdev; tar cf /t.tar /o/sentinel.txt
            rm -rf /o/sentinel.txt /r/../sentinel.txt; echo gone > /s; touch /o/sentinel.txt
            mv /r/.. /x; ln /s /hard; readlink -f /r/../..; realpath /work/u/u/u
            echo done
            """;
        var run = _root.Sh(script);
        Assert.That(run.StdoutText, Does.Contain("done"));
        Assert.That(run.StdoutText, Does.Contain("\n/\n"), "pwd and readlink -f must stay at /");
        _root.AssertWallHeld(run);
        Assert.That(File.Exists(_root["s"]) || new FileInfo(_root["s"]).LinkTarget is not null, Is.True);
    }
}
