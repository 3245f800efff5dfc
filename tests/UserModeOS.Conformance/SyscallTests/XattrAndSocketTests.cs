using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.SyscallTests;

/// <summary>
/// Extended attributes and sockets are not offered yet: the calls must still check their
/// arguments as Linux does and then say so with the errno Linux uses for a filesystem or
/// address family without support (umos only: the host's filesystem does support xattrs).
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
            show("lgetxattr /", lgetxattr("/", "user.x", buf, sizeof buf));
            show("getxattr missing", getxattr("/no/such/file", "user.x", buf, sizeof buf));
            show("fgetxattr bad fd", fgetxattr(99, "user.x", buf, sizeof buf));
            show("listxattr /", listxattr("/", buf, sizeof buf));
            show("socket unix", socket(AF_UNIX, SOCK_STREAM, 0));
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
        var notSupported = musl ? "Not supported" : "Operation not supported";
        var notSocket = musl ? "Not a socket" : "Socket operation on non-socket";
        Assert.That(r.StdoutText, Is.EqualTo(
            $"lgetxattr /: -1 {notSupported}\n" +
            "getxattr missing: -1 No such file or directory\n" +
            "fgetxattr bad fd: -1 Bad file descriptor\n" +
            $"listxattr /: -1 {notSupported}\n" +
            "socket unix: -1 Address family not supported by protocol\n" +
            $"getpeername stdin: -1 {notSocket}\n"), r.Describe());
        Assert.That(r.UmosLog, Does.Not.Contain("unknown syscall"));
    }
}
