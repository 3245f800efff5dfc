namespace UserModeOS.Conformance.SyscallTests;

/// <summary>ioctl(2) on files that are not terminals: FIONREAD, FIONBIO, FIOCLEX/FIONCLEX, and ENOTTY/EBADF.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class IoctlTests(string compiler)
{
    [Test]
    public void GenericAndFileIoctls() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        #include <termios.h>

        int main(void)
        {
            unlink("f");
            int fd = open("f", O_RDWR | O_CREAT, 0644);
            CHECK(write(fd, "0123456789", 10));
            CHECK(lseek(fd, 3, SEEK_SET));
            int avail = -1;
            CHECK(ioctl(fd, FIONREAD, &avail));
            SAY("FIONREAD %d\n", avail);
            struct termios tio;
            CHECK(ioctl(fd, TCGETS, &tio));
            struct winsize ws;
            CHECK(ioctl(fd, TIOCGWINSZ, &ws));
            CHECK(ioctl(fd, TIOCGPGRP, &avail));
            CHECK(ioctl(fd, 0x12345678, 0));
            CHECK(ioctl(999, TCGETS, &tio));
            CHECK(ioctl(-1, FIONBIO, &avail));
            int null = open("/dev/null", O_RDWR);
            CHECK(ioctl(null, TCGETS, &tio));
            CHECK(isatty(null));

            int on = 1, off = 0;
            CHECK(ioctl(fd, FIONBIO, &on));
            SAY("nonblock %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
            CHECK(ioctl(fd, FIONBIO, &off));
            SAY("nonblock %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
            CHECK(ioctl(fd, FIONBIO, WILD));
            CHECK(ioctl(fd, FIOASYNC, &on));
            SAY("async %d\n", (fcntl(fd, F_GETFL) & O_ASYNC) != 0);
            CHECK(ioctl(fd, FIOASYNC, &off));
            CHECK(ioctl(fd, FIOCLEX));
            CHECK(fcntl(fd, F_GETFD));
            CHECK(ioctl(fd, FIONCLEX));
            CHECK(fcntl(fd, F_GETFD));
            int p = open("f", O_PATH);
            CHECK(ioctl(p, FIOCLEX));
            CHECK(ioctl(p, FIONREAD, &avail));
            unlink("f");
            return 0;
        }
        """;
}
