namespace UserModeOS.Conformance.SyscallTests;

/// <summary>
/// Unix 98 pseudo-terminals (pty(7), pts(4), termios(3), tty_ioctl(4)): posix_openpt,
/// grantpt, unlockpt and ptsname, the n_tty line discipline in canonical and raw mode with
/// echo and output processing, job-control signals, window size, hang-up and poll readiness.
/// Only relations are printed, never pts numbers or owners that differ between hosts.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class PtyTests(string compiler)
{
    /// <summary>Opening a pair, and reading what one side sent the other with escapes shown.</summary>
    private const string Helpers = """
        #include <poll.h>
        #include <termios.h>
        #include <sys/sysmacros.h>
        #include <sys/wait.h>

        /* Writes a string literal. */
        #define PUT(fd, text) write(fd, text, sizeof text - 1)

        static int open_pair(int *master)
        {
            *master = posix_openpt(O_RDWR | O_NOCTTY);
            if (*master < 0 || grantpt(*master) < 0 || unlockpt(*master) < 0) return -1;
            return open(ptsname(*master), O_RDWR | O_NOCTTY);
        }

        /* The ptys of Linux hand input over asynchronously: read until nothing comes for a while. */
        static int drain(int fd, char *buf, int size)
        {
            int n = 0;
            struct pollfd p = { fd, POLLIN, 0 };
            while (n < size && poll(&p, 1, 200) > 0 && (p.revents & POLLIN)) {
                int r = read(fd, buf + n, size - n);
                if (r <= 0) break;
                n += r;
            }
            return n;
        }

        static void show(const char *what, const char *buf, int n)
        {
            printf("%s %d \"", what, n);
            for (int i = 0; i < n; i++) {
                unsigned char c = buf[i];
                if (c == '\n') printf("\\n");
                else if (c == '\r') printf("\\r");
                else if (c == '\b') printf("\\b");
                else if (c < 32 || c == 127) printf("\\x%02x", c);
                else putchar(c);
            }
            printf("\"\n");
        }

        static void wait_readable(int fd)
        {
            struct pollfd p = { fd, POLLIN, 0 };
            poll(&p, 1, 2000);
        }

        """;

    [Test]
    public void OpenGrantUnlockAndName() => SyscallPrograms.AssertSameAsNative(Helpers + OpenSource, compiler);

    private const string OpenSource = """
        int main(void)
        {
            int m = posix_openpt(O_RDWR | O_NOCTTY);
            SAY("master %d\n", m >= 0);
            CHECK(isatty(m));
            CHECK(grantpt(m));
            char name[64];
            strcpy(name, ptsname(m));
            SAY("name under /dev/pts/ %d\n", strncmp(name, "/dev/pts/", 9) == 0);
            int n = -1;
            CHECK(ioctl(m, TIOCGPTN, &n));
            SAY("TIOCGPTN names it %d\n", atoi(name + 9) == n);
            CHECK(open(name, O_RDWR | O_NOCTTY));
            CHECK(unlockpt(m));
            int s = open(name, O_RDWR | O_NOCTTY);
            SAY("slave %d\n", s >= 0);
            CHECK(isatty(s));
            CHECK(ioctl(s, TIOCGPTN, &n));

            struct stat st, fst;
            CHECK(stat(name, &st));
            CHECK(fstat(s, &fst));
            SAY("char %d major %u minor is N %d same inode %d owner is me %d\n", S_ISCHR(st.st_mode), major(st.st_rdev),
                minor(st.st_rdev) == (unsigned)n, st.st_ino == fst.st_ino && st.st_dev == fst.st_dev && st.st_rdev == fst.st_rdev,
                st.st_uid == getuid());
            CHECK(chmod(name, 0620));
            CHECK(stat(name, &st));
            SAY("mode %o\n", st.st_mode & 07777);
            CHECK(stat("/dev/pts/ptmx", &st));
            SAY("ptmx char %d %u:%u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
            CHECK(stat("/dev/ptmx", &st));
            SAY("/dev/ptmx char %d %u:%u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));

            char *tn = ttyname(s);
            SAY("ttyname is ptsname %d\n", tn && strcmp(tn, name) == 0);
            char link[64], fdpath[64];
            snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", s);
            ssize_t l = readlink(fdpath, link, sizeof link - 1);
            link[l < 0 ? 0 : l] = 0;
            SAY("fd link is the name %d\n", strcmp(link, name) == 0);

            struct termios t;
            CHECK(tcgetattr(s, &t));
            SAY("iflag %o oflag %o cflag %o lflag %o\n", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
            SAY("cc");
            for (int i = 0; i < 17; i++) SAY(" %d", t.c_cc[i]);
            SAY("\n");
            struct termios tm;
            CHECK(tcgetattr(m, &tm));
            SAY("master shows the same %d\n", tm.c_lflag == t.c_lflag && tm.c_oflag == t.c_oflag);

            int second = posix_openpt(O_RDWR | O_NOCTTY);
            int n2 = -1;
            CHECK(ioctl(second, TIOCGPTN, &n2));
            SAY("second is another %d\n", n2 != n);
            int lock = 1;
            CHECK(ioctl(second, TIOCGPTLCK, &lock));
            SAY("locked %d\n", lock);
            int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
            SAY("TIOCGPTPEER %d\n", peer >= 0);
            CHECK(fstat(peer, &fst));
            SAY("peer is the slave %d\n", fst.st_rdev == st.st_rdev || minor(fst.st_rdev) == (unsigned)n);

            int amaster = -1, aslave = -1;
            char oname[64];
            CHECK(openpty(&amaster, &aslave, oname, NULL, NULL));
            SAY("openpty name is ttyname %d\n", strcmp(oname, ttyname(aslave)) == 0);
            return 0;
        }
        """;

    [Test]
    public void CanonicalModeEchoAndOutputProcessing() => SyscallPrograms.AssertSameAsNative(Helpers + CanonicalSource, compiler);

    private const string CanonicalSource = """
        int main(void)
        {
            int m, s = open_pair(&m);
            char buf[256];
            int n;

            CHECK(PUT(m, "hello\n"));
            wait_readable(s);
            n = read(s, buf, sizeof buf);
            show("line", buf, n);
            n = drain(m, buf, sizeof buf);
            show("echo", buf, n);

            /* A partial line is not readable; erase, kill and a two-line write. */
            CHECK(PUT(m, "ab"));
            n = drain(s, buf, sizeof buf);
            show("partial", buf, n);
            CHECK(PUT(m, "c\x7f" "d\x15xyz\x7f\nsecond line\n"));
            wait_readable(s);
            n = read(s, buf, sizeof buf);
            show("edited", buf, n);
            n = read(s, buf, 3);
            show("short", buf, n);
            n = read(s, buf, sizeof buf);
            show("rest", buf, n);
            n = drain(m, buf, sizeof buf);
            show("echo", buf, n);

            /* ICRNL turns the return into a newline; VEOF ends a line, alone it is end of file. */
            CHECK(PUT(m, "cr\r"));
            wait_readable(s);
            n = read(s, buf, sizeof buf);
            show("icrnl", buf, n);
            CHECK(PUT(m, "no newline\x04"));
            wait_readable(s);
            n = read(s, buf, sizeof buf);
            show("eof-ended", buf, n);
            CHECK(PUT(m, "\x04"));
            wait_readable(s);
            CHECK(read(s, buf, sizeof buf));
            drain(m, buf, sizeof buf);

            /* The slave's output: ONLCR, then without OPOST. */
            CHECK(PUT(s, "one\ntwo\n"));
            wait_readable(m);
            usleep(50000);
            int avail = -1;
            CHECK(ioctl(m, FIONREAD, &avail));
            SAY("FIONREAD %d\n", avail);
            CHECK(ioctl(s, TIOCOUTQ, &avail));
            SAY("TIOCOUTQ %d\n", avail);
            n = drain(m, buf, sizeof buf);
            show("onlcr", buf, n);
            struct termios t;
            tcgetattr(s, &t);
            t.c_oflag &= ~OPOST;
            t.c_lflag &= ~ECHO;
            t.c_lflag |= ECHONL;
            t.c_iflag &= ~ICRNL;
            t.c_iflag |= INLCR;
            CHECK(tcsetattr(s, TCSANOW, &t));
            CHECK(PUT(s, "raw\n"));
            n = drain(m, buf, sizeof buf);
            show("no opost", buf, n);
            CHECK(PUT(m, "quiet\n"));
            n = drain(m, buf, sizeof buf);
            show("echonl", buf, n);
            n = drain(s, buf, sizeof buf);
            show("inlcr", buf, n);
            CHECK(PUT(m, "r\r\n"));
            n = drain(s, buf, sizeof buf);
            show("cr kept", buf, n);
            t.c_iflag |= IGNCR;
            CHECK(tcsetattr(s, TCSANOW, &t));
            CHECK(PUT(m, "i\r\r"));
            n = drain(s, buf, sizeof buf);
            show("igncr", buf, n);
            CHECK(ioctl(s, TIOCINQ, &avail));
            SAY("TIOCINQ %d\n", avail);

            /* ECHOCTL shows control characters as ^X; TCSETSF drops pending input. */
            tcgetattr(s, &t);
            t.c_oflag |= OPOST;
            t.c_lflag |= ECHO;
            t.c_iflag &= ~(INLCR | IGNCR);
            t.c_iflag |= ICRNL;
            CHECK(tcsetattr(s, TCSANOW, &t));
            CHECK(PUT(m, "\x01\tz\x7f\x7f\x7f\n"));
            n = drain(m, buf, sizeof buf);
            show("echoctl", buf, n);
            n = drain(s, buf, sizeof buf);
            show("erased", buf, n);
            CHECK(PUT(m, "gone\n"));
            usleep(50000);
            CHECK(tcsetattr(s, TCSAFLUSH, &t));
            n = drain(s, buf, sizeof buf);
            show("flushed", buf, n);
            return 0;
        }
        """;

    [Test]
    public void RawMode() => SyscallPrograms.AssertSameAsNative(Helpers + RawSource, compiler);

    private const string RawSource = """
        int main(void)
        {
            int m, s = open_pair(&m);
            char buf[256];
            int n;
            struct termios t;
            tcgetattr(s, &t);
            cfmakeraw(&t);
            CHECK(tcsetattr(s, TCSANOW, &t));
            tcgetattr(s, &t);
            SAY("raw iflag %o oflag %o lflag %o vmin %d vtime %d\n", t.c_iflag, t.c_oflag, t.c_lflag, t.c_cc[VMIN], t.c_cc[VTIME]);

            CHECK(PUT(m, "abc\x03\r"));
            wait_readable(s);
            usleep(50000);
            n = read(s, buf, sizeof buf);
            show("raw", buf, n);
            n = drain(m, buf, sizeof buf);
            show("no echo", buf, n);
            CHECK(PUT(s, "x\ny\n"));
            n = drain(m, buf, sizeof buf);
            show("no onlcr", buf, n);

            /* VMIN 0: a read returns what is there, or 0 (with VTIME, after waiting). */
            t.c_cc[VMIN] = 0;
            t.c_cc[VTIME] = 0;
            CHECK(tcsetattr(s, TCSANOW, &t));
            CHECK(read(s, buf, sizeof buf));
            t.c_cc[VTIME] = 1;
            CHECK(tcsetattr(s, TCSANOW, &t));
            CHECK(read(s, buf, sizeof buf));
            fcntl(s, F_SETFL, O_NONBLOCK);
            t.c_cc[VMIN] = 1;
            t.c_cc[VTIME] = 0;
            CHECK(tcsetattr(s, TCSANOW, &t));
            CHECK(read(s, buf, sizeof buf));

            /* Back to canonical: what was typed raw becomes one readable line. */
            CHECK(PUT(m, "typed"));
            usleep(100000);
            t.c_lflag |= ICANON;
            CHECK(tcsetattr(s, TCSANOW, &t));
            n = read(s, buf, sizeof buf);
            show("pushed", buf, n);
            return 0;
        }
        """;

    [Test]
    public void JobControlSignalsAndWindowSize() => SyscallPrograms.AssertSameAsNative(Helpers + SignalSource, compiler);

    private const string SignalSource = """
        static volatile sig_atomic_t got_int, got_winch;
        static void on_int(int sig) { got_int = sig; }
        static void on_winch(int sig) { got_winch = sig; }

        int main(void)
        {
            int m, s = open_pair(&m);
            char buf[256];
            int ready[2];
            pipe(ready);
            int pgrp = -1, sid = -1;
            CHECK(ioctl(s, TIOCGPGRP, &pgrp));
            CHECK(ioctl(m, TIOCGSID, &sid));
            struct winsize ws = { 0 };
            CHECK(ioctl(s, TIOCGWINSZ, &ws));
            SAY("initial %d x %d\n", ws.ws_row, ws.ws_col);
            fflush(stdout);
            pid_t child = fork();
            if (child == 0) {
                signal(SIGINT, on_int);
                signal(SIGWINCH, on_winch);
                OK(setsid());
                CHECK(ioctl(s, TIOCSCTTY, 0));
                SAY("child foreground is me %d\n", tcgetpgrp(s) == getpid());
                SAY("child sid is me %d\n", tcgetsid(s) == getpid());
                int tty = open("/dev/tty", O_RDWR);
                SAY("/dev/tty opens %d\n", tty >= 0);
                struct stat a, b;
                fstat(tty, &a);
                SAY("/dev/tty is the tty %d\n", isatty(tty) && tcgetpgrp(tty) == getpid());
                (void)b;
                fflush(stdout);
                write(ready[1], "r", 1);
                while (!got_int || !got_winch) pause();
                ioctl(s, TIOCGWINSZ, &ws);
                SAY("child got SIGINT %d SIGWINCH %d size %d x %d\n", got_int == SIGINT, got_winch == SIGWINCH, ws.ws_row, ws.ws_col);
                return 0;
            }
            read(ready[0], buf, 1);
            CHECK(ioctl(m, TIOCGPGRP, &pgrp));
            SAY("master sees the child's group %d\n", pgrp == child);
            CHECK(ioctl(m, TIOCGSID, &sid));
            SAY("master sees the child's session %d\n", sid == child);
            CHECK(ioctl(s, TIOCGPGRP, &pgrp));
            CHECK(tcsetpgrp(s, getpgrp()));
            CHECK(PUT(m, "lost\x03"));
            ws.ws_row = 24;
            ws.ws_col = 80;
            CHECK(ioctl(m, TIOCSWINSZ, &ws));
            int status;
            waitpid(child, &status, 0);
            SAY("child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            int n = drain(m, buf, sizeof buf);
            show("echo", buf, n);
            struct winsize got = { 0 };
            CHECK(ioctl(s, TIOCGWINSZ, &got));
            SAY("now %d x %d\n", got.ws_row, got.ws_col);
            return 0;
        }
        """;

    [Test]
    public void HangupAndPollReadiness() => SyscallPrograms.AssertSameAsNative(Helpers + HangupSource, compiler);

    private const string HangupSource = """
        static void show_poll(const char *what, int fd)
        {
            struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
            poll(&p, 1, 0);
            SAY("%s in %d out %d hup %d err %d\n", what, !!(p.revents & POLLIN), !!(p.revents & POLLOUT), !!(p.revents & POLLHUP), !!(p.revents & POLLERR));
        }

        int main(void)
        {
            int m, s = open_pair(&m);
            char buf[256];
            show_poll("master idle", m);
            show_poll("slave idle", s);
            PUT(m, "half");
            usleep(50000);
            show_poll("slave partial line", s);
            PUT(m, "\n");
            wait_readable(s);
            show_poll("slave line", s);
            drain(m, buf, sizeof buf);
            PUT(s, "out");
            wait_readable(m);
            show_poll("master output", m);
            fd_set r;
            FD_ZERO(&r);
            FD_SET(m, &r);
            struct timeval tv = { 0, 0 };
            CHECK(select(m + 1, &r, NULL, NULL, &tv));

            /* Closing the slave: the master reads what is left, then EIO. */
            PUT(s, "left");
            usleep(50000);
            close(s);
            usleep(50000);
            show_poll("master, slave closed", m);
            int n = read(m, buf, sizeof buf);
            show("leftover", buf, n);
            CHECK(read(m, buf, sizeof buf));
            CHECK(PUT(m, "x"));

            /* Closing the master hangs the slave up; its session leader gets SIGHUP. */
            int ready[2];
            pipe(ready);
            s = open_pair(&m);
            char *name = strdup(ptsname(m));
            fflush(stdout);
            pid_t child = fork();
            if (child == 0) {
                close(m);
                setsid();
                int tty = open(name, O_RDWR);
                SAY("child acquired it %d\n", tcgetpgrp(tty) == getpid());
                fflush(stdout);
                signal(SIGHUP, SIG_DFL);
                write(ready[1], "r", 1);
                pause();
                return 0;
            }
            read(ready[0], buf, 1);
            PUT(m, "unread\n");
            usleep(50000);
            close(m);
            int status;
            waitpid(child, &status, 0);
            SAY("child killed by SIGHUP %d\n", WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP);
            show_poll("slave, master closed", s);
            CHECK(read(s, buf, sizeof buf));
            CHECK(PUT(s, "x"));
            struct termios t;
            CHECK(tcgetattr(s, &t));
            return 0;
        }
        """;
}
