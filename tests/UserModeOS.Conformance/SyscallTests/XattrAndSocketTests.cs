using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.SyscallTests;

/// <summary>
/// Sockets other than AF_UNIX are not offered yet: the calls must still check their arguments
/// as Linux does and then say so with the errno Linux uses for an address family without
/// support (umos only: the host has AF_INET); the xattr calls check theirs. tmpfs keeps real
/// extended attributes: compared with the host's /dev/shm (host folders pass theirs through:
/// see PermissionTests).
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class XattrAndSocketTests(string compiler)
{
    private const string Source = """
        #include <errno.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/socket.h>
        #include <sys/xattr.h>
        #include <unistd.h>
        static void show(const char *what, long r) { printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : ""); }
        int main(void)
        {
            char buf[64];
            show("getxattr missing", getxattr("/no/such/file", "user.x", buf, sizeof buf));
            show("fgetxattr bad fd", fgetxattr(99, "user.x", buf, sizeof buf));
            show("socket inet", socket(AF_INET, SOCK_STREAM, 0));
            show("socket netlink", socket(AF_NETLINK, SOCK_RAW, 0));
            show("getpeername stdin", getpeername(0, NULL, NULL));
            return 0;
        }
        """;

    [Test]
    public void UnsupportedButChecked()
    {
        var r = Guest.Run([CProgram.Compile(Source, compiler)]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        // glibc and musl word some errnos differently.
        var musl = compiler == "musl-gcc";
        var notSocket = musl ? "Not a socket" : "Socket operation on non-socket";
        Assert.That(r.StdoutText, Is.EqualTo(
            "getxattr missing: -1 No such file or directory\n" +
            "fgetxattr bad fd: -1 Bad file descriptor\n" +
            "socket inet: -1 Address family not supported by protocol\n" +
            "socket netlink: -1 Address family not supported by protocol\n" +
            $"getpeername stdin: -1 {notSocket}\n"), r.Describe());
        Assert.That(r.UmosLog, Does.Not.Contain("unknown syscall"));
    }

    private const string TmpfsSource = """
        #include <sys/xattr.h>

        static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

        /* The names listxattr returned, sorted (the order is the filesystem's business). */
        static void names(const char *what, char *buf, long n)
        {
            char *list[64];
            int count = 0;
            for (long off = 0; off < n && count < 64; off += strlen(buf + off) + 1) list[count++] = buf + off;
            qsort(list, count, sizeof list[0], cmp);
            SAY("%s:", what);
            for (int i = 0; i < count; i++) SAY(" %s", list[i]);
            SAY("\n");
        }

        static char big[65537];

        int main(void)
        {
            char p[128], l[160], d[160], buf[512];
            snprintf(p, sizeof p, "/dev/shm/umos-xattr-%d", (int)getpid());
            snprintf(l, sizeof l, "%s-link", p);
            snprintf(d, sizeof d, "%s-dir", p);
            int fd = open(p, O_RDWR | O_CREAT | O_EXCL, 0644);
            SAY("open %d\n", fd >= 0);
            CHECK(listxattr(p, NULL, 0));
            CHECK(setxattr(p, "user.a", "hello", 5, 0));
            CHECK(setxattr(p, "user.a", "x", 1, XATTR_CREATE));
            CHECK(setxattr(p, "user.b", "x", 1, XATTR_REPLACE));
            CHECK(setxattr(p, "user.a", "world!", 6, XATTR_REPLACE));
            CHECK(setxattr(p, "user.b", "", 0, XATTR_CREATE));
            CHECK(fsetxattr(fd, "trusted.t", "tv", 2, 0));
            CHECK(setxattr(p, "user.a", "x", 1, 4));
            CHECK(setxattr(p, "user.big", big, sizeof big, 0));
            CHECK(setxattr(p, "user.mid", big, 4000, 0));
            CHECK(setxattr(p, "", "x", 1, 0));
            CHECK(setxattr(p, "nonamespace", "x", 1, 0));
            CHECK(setxattr(p, "bogus.x", "x", 1, 0));
            CHECK(getxattr(p, "user.a", NULL, 0));
            CHECK(getxattr(p, "user.a", buf, 3));
            memset(buf, 0, sizeof buf);
            CHECK(getxattr(p, "user.a", buf, sizeof buf)); SAY("value %s\n", buf);
            CHECK(getxattr(p, "user.b", buf, sizeof buf));
            CHECK(getxattr(p, "user.mid", NULL, 0));
            CHECK(fgetxattr(fd, "trusted.t", buf, sizeof buf));
            CHECK(getxattr(p, "user.missing", buf, sizeof buf));
            CHECK(getxattr(p, "trusted.missing", buf, sizeof buf));
            CHECK(getxattr(p, "", buf, sizeof buf));
            CHECK(getxattr(p, "nonamespace", buf, sizeof buf));
            CHECK(listxattr(p, NULL, 0));
            CHECK(listxattr(p, buf, 3));
            long n = listxattr(p, buf, sizeof buf);
            names("list", buf, n);
            CHECK(removexattr(p, "user.a"));
            CHECK(removexattr(p, "user.a"));
            CHECK(fremovexattr(fd, "trusted.t"));
            CHECK(removexattr(p, "nonamespace"));
            n = flistxattr(fd, buf, sizeof buf);
            names("after remove", buf, n);
            /* user.* attributes live on regular files and directories only. */
            CHECK(symlink(p, l));
            CHECK(lsetxattr(l, "user.x", "1", 1, 0));
            CHECK(lgetxattr(l, "user.x", buf, sizeof buf));
            CHECK(lsetxattr(l, "trusted.x", "1", 1, 0));
            CHECK(llistxattr(l, buf, sizeof buf));
            CHECK(getxattr(l, "user.b", buf, sizeof buf));
            CHECK(listxattr(l, NULL, 0));
            CHECK(mkdir(d, 0755));
            CHECK(setxattr(d, "user.dir", "yes", 3, 0));
            CHECK(getxattr(d, "user.dir", NULL, 0));
            CHECK(getxattr("/dev/shm/umos-no-such-file", "user.a", buf, sizeof buf));
            CHECK(fgetxattr(99, "user.a", buf, sizeof buf));
            close(fd);
            unlink(l);
            rmdir(d);
            unlink(p);
            return 0;
        }
        """;

    [Test]
    public void TmpfsKeepsAttributes()
    {
        Assume.That(new DriveInfo("/dev/shm").DriveFormat, Is.EqualTo("tmpfs"), "the host's /dev/shm is no tmpfs");
        SyscallPrograms.AssertSameAsNative(TmpfsSource, compiler);
    }
}
