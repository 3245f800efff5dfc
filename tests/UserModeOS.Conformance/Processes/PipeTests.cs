namespace UserModeOS.Conformance.Processes;

/// <summary>Pipes and readiness: capacity, O_NONBLOCK, PIPE_BUF atomicity, EOF and EPIPE; poll, ppoll, select and pselect with timeouts.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class PipeTests(string compiler)
{
    /// <summary>pipe2 flags, 64 KiB capacity with EAGAIN, PIPE_BUF atomic writes from 4 writers, EOF, EPIPE, EBADF on the wrong end, a blocking writer.</summary>
    [Test]
    public void Pipes() => ProcessPrograms.AssertSameAsNative(PipesSource, compiler);

    /// <summary>poll/ppoll/select/pselect6 on pipes: timeouts, readiness, POLLHUP/POLLERR/POLLNVAL, remaining time, EINTR with a temporary mask.</summary>
    [Test]
    public void PollAndSelect() => ProcessPrograms.AssertSameAsNative(PollSource, compiler);

    /// <summary>
    /// One read(2) or readv(2) of a stream is one transfer: 1 MiB asked of a pipe or fifo holding
    /// 64 KiB returns 64 KiB at once; a 200000-byte write arrives whole; PIPE_BUF atomicity of
    /// writev; /dev/zero fills the buffer; preadv/pwritev on a file.
    /// </summary>
    [Test]
    public void LargeReads() => ProcessPrograms.AssertSameAsNative(LargeReadsSource, compiler);

    /// <summary>Stdin (a host pipe natively) read to EOF with 1 MiB reads: the total, and no read above the pipe's 64 KiB.</summary>
    [Test]
    public void LargeStdinReads() => ProcessPrograms.AssertSameAsNative(StdinReadsSource, compiler, stdin: new byte[65536]);

    private const string PipesSource = """
        static const char *ename(void) { return errno == EAGAIN ? "EAGAIN" : errno == EPIPE ? "EPIPE" : errno == EBADF ? "EBADF" : errno == EINVAL ? "EINVAL" : strerror(errno); }

        int main(void)
        {
            int p[2];
            MUST(pipe2(p, O_NONBLOCK | O_CLOEXEC));
            SAY("pipe2 flags: read end O_NONBLOCK %d CLOEXEC %d; write end %d %d\n", (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0,
                (fcntl(p[0], F_GETFD) & FD_CLOEXEC) != 0, (fcntl(p[1], F_GETFL) & O_NONBLOCK) != 0, (fcntl(p[1], F_GETFD) & FD_CLOEXEC) != 0);
            SAY("access modes: %d %d\n", fcntl(p[0], F_GETFL) & O_ACCMODE, fcntl(p[1], F_GETFL) & O_ACCMODE);
            SAY("F_GETPIPE_SZ: %d\n", fcntl(p[0], F_GETPIPE_SZ));
            char buf[8192];
            memset(buf, 'a', sizeof buf);
            errno = 0;
            long r = read(p[0], buf, 10);
            SAY("empty non-blocking read: %ld %s\n", r, ename());
            long total = 0, writes = 0;
            for (;;) {
                r = write(p[1], buf, 4096);
                if (r < 0) break;
                total += r;
                writes++;
            }
            SAY("filled with 4096-byte writes: %ld bytes in %ld writes, then %s\n", total, writes, ename());
            errno = 0;
            r = write(p[1], buf, 1);
            SAY("one more byte: %ld %s\n", r, ename());
            struct pollfd pf = { .fd = p[1], .events = POLLOUT };
            SAY("full pipe poll POLLOUT: %d revents %#x\n", poll(&pf, 1, 0), pf.revents);
            r = read(p[0], buf, 100);
            SAY("read 100: %ld\n", r);
            errno = 0;
            r = write(p[1], buf, 200);
            SAY("write 200 with 100 free: %ld %s\n", r, ename());
            SAY("poll POLLOUT with 100 free: %d\n", poll(&pf, 1, 0));
            r = read(p[0], buf, 4096);
            SAY("read 4096 more: %ld\n", r);
            r = write(p[1], buf, 4096);
            SAY("write of 4096 with 4196 free: %ld\n", r);
            long drained = 0;
            while ((r = read(p[0], buf, sizeof buf)) > 0) drained += r;
            SAY("drained %ld\n", drained);
            static char huge[100000];
            r = write(p[1], huge, sizeof huge);
            SAY("non-blocking write of 100000 into an empty pipe (partial above PIPE_BUF): %ld\n", r);
            while ((r = read(p[0], buf, sizeof buf)) > 0) drained += r;
            close(p[0]);
            close(p[1]);

            /* 1-byte writes: still 65536 */
            MUST(pipe2(p, O_NONBLOCK));
            total = 0;
            while (write(p[1], "x", 1) == 1) total++;
            SAY("filled with 1-byte writes: %ld\n", total);
            close(p[0]);
            close(p[1]);


            /* PIPE_BUF atomicity: 4 children write 300 records of PIPE_BUF bytes each into one pipe */
            MUST(pipe(p));
            for (int w = 0; w < 4; w++) {
                if (fork() == 0) {
                    close(p[0]);
                    char rec[PIPE_BUF];
                    memset(rec, 'A' + w, sizeof rec);
                    for (int i = 0; i < 300; i++)
                        if (write(p[1], rec, sizeof rec) != sizeof rec) _exit(1);
                    _exit(0);
                }
            }
            close(p[1]);
            static char all[4 * 300 * PIPE_BUF];
            long got = 0;
            while ((r = read(p[0], all + got, sizeof all - got)) > 0) got += r;
            int torn = 0, counts[4] = { 0 };
            for (long i = 0; i + PIPE_BUF <= got; i += PIPE_BUF) {
                char c = all[i];
                for (long j = 1; j < PIPE_BUF; j++) if (all[i + j] != c) { torn++; break; }
                if (c >= 'A' && c <= 'D') counts[c - 'A']++;
            }
            int status, ok = 0;
            while (wait(&status) > 0) ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
            SAY("PIPE_BUF records: %ld bytes, torn %d, per writer %d %d %d %d, writers ok %d, EOF after the last writer\n", got, torn, counts[0], counts[1], counts[2], counts[3], ok);
            close(p[0]);

            /* EOF, EPIPE, EBADF on the wrong end */
            MUST(pipe(p));
            errno = 0;
            r = write(p[0], "x", 1);
            SAY("write to the read end: %ld %s\n", r, ename());
            errno = 0;
            r = read(p[1], buf, 1);
            SAY("read from the write end: %ld %s\n", r, ename());
            write(p[1], "tail", 4);
            close(p[1]);
            r = read(p[0], buf, sizeof buf);
            SAY("data before EOF: %ld\n", r);
            SAY("EOF: %ld\n", read(p[0], buf, sizeof buf));
            close(p[0]);
            signal(SIGPIPE, SIG_IGN);
            MUST(pipe(p));
            close(p[0]);
            errno = 0;
            r = write(p[1], "x", 1);
            SAY("write with no reader: %ld %s\n", r, ename());
            close(p[1]);

            /* A blocking writer blocked on a full pipe completes once the reader drains it */
            MUST(pipe(p));
            pid_t c = fork();
            if (c == 0) {
                close(p[0]);
                static char big[200000];
                memset(big, 'z', sizeof big);
                long w = write(p[1], big, sizeof big);
                _exit(w == sizeof big ? 0 : 1);
            }
            close(p[1]);
            sleep_ms(50);
            got = 0;
            while ((r = read(p[0], buf, sizeof buf)) > 0) got += r;
            MUST(waitpid(c, &status, 0));
            SAY("blocking 200000-byte write: reader got %ld, writer status %d\n", got, WEXITSTATUS(status));
            close(p[0]);

            errno = 0;
            r = pipe2(p, 0x4);
            SAY("pipe2 bad flags: %ld %s\n", r, ename());
            return 0;
        }
        """;

    private const string LargeReadsSource = """
        #include <sys/uio.h>

        static char big[1 << 20];

        /* Writes exactly n bytes (the pipe has room) and says what one read of 1 MiB returns. */
        static void fill_and_read(const char *what, int rd, int wr, long n)
        {
            if (write(wr, big, n) != n) DIE("fill %s", what);
            SAY("%s: read of 1 MiB with %ld buffered: %ld\n", what, n, (long)read(rd, big, sizeof big));
        }

        int main(void)
        {
            alarm(5);  /* a read that waits for more than the pipe holds fails fast instead of hanging */
            int p[2];
            MUST(pipe(p));
            SAY("F_GETPIPE_SZ: %d\n", fcntl(p[0], F_GETPIPE_SZ));
            fill_and_read("pipe", p[0], p[1], 65536);
            fill_and_read("pipe", p[0], p[1], 1000);

            /* readv: one transfer over all the buffers, even when the first is filled exactly */
            MUST(write(p[1], big, 65536));
            struct iovec iov[2] = { { big, 1000 }, { big + 1000, sizeof big - 1000 } };
            SAY("readv of 1 MiB with 65536 buffered: %ld\n", (long)readv(p[0], iov, 2));
            MUST(write(p[1], big, 32768));
            iov[0].iov_len = 32768;
            iov[1].iov_len = 32768;
            SAY("readv of 2 x 32768 with 32768 buffered: %ld\n", (long)readv(p[0], iov, 2));

            /* PIPE_BUF atomicity counts a writev as a whole: 4095 bytes free take no 4096-byte write */
            MUST(fcntl(p[1], F_SETFL, O_NONBLOCK));
            MUST(write(p[1], big, 65536 - 4095));
            errno = 0;
            long r = write(p[1], big, 4096);
            SAY("write 4096 with 4095 free: %ld %s\n", r, errno == EAGAIN ? "EAGAIN" : "?");
            iov[0].iov_len = 2048;
            iov[1].iov_len = 2048;
            errno = 0;
            r = writev(p[1], iov, 2);
            SAY("writev 2 x 2048 with 4095 free: %ld %s\n", r, errno == EAGAIN ? "EAGAIN" : "?");
            SAY("write 4095 with 4095 free: %ld\n", (long)write(p[1], big, 4095));
            SAY("read of 1 MiB from the full pipe: %ld\n", (long)read(p[0], big, sizeof big));
            close(p[0]);
            close(p[1]);

            /* a fifo in the working directory */
            MUST(mkfifo("fifo", 0600));
            int rd = open("fifo", O_RDONLY | O_NONBLOCK);
            int wr = open("fifo", O_WRONLY);
            if (rd < 0 || wr < 0) DIE("open fifo");
            MUST(fcntl(rd, F_SETFL, 0));
            fill_and_read("fifo", rd, wr, 65536);
            close(rd);
            close(wr);
            unlink("fifo");

            /* a blocking 200000-byte write from a child arrives whole, read 1 MiB at a time */
            MUST(pipe(p));
            pid_t c = fork();
            if (c == 0) {
                close(p[0]);
                _exit(write(p[1], big, 200000) == 200000 ? 0 : 1);
            }
            close(p[1]);
            long got = 0;
            while ((r = read(p[0], big, sizeof big)) > 0) got += r;
            int status;
            MUST(waitpid(c, &status, 0));
            SAY("200000-byte write read in 1 MiB reads: total %ld, writer status %d\n", got, WEXITSTATUS(status));
            close(p[0]);

            /* a device that never waits fills the whole buffer */
            int z = open("/dev/zero", O_RDONLY);
            SAY("read of 1 MiB from /dev/zero: %ld\n", (long)read(z, big, sizeof big));
            close(z);

            /* preadv and pwritev: at an offset, the position untouched; ESPIPE on a pipe */
            int f = open("file", O_RDWR | O_CREAT | O_TRUNC, 0600);
            if (f < 0) DIE("open file");
            char a[3] = "abc", b[4] = "defg";
            struct iovec out[2] = { { a, 3 }, { b, 4 } };
            SAY("pwritev at 10: %ld\n", (long)pwritev(f, out, 2, 10));
            memset(a, 0, sizeof a);
            memset(b, 0, sizeof b);
            out[0].iov_len = 2;
            out[1].iov_len = 4;
            r = preadv(f, out, 2, 11);
            SAY("preadv at 11: %ld \"%.2s\" \"%.4s\", position %ld\n", r, a, b, (long)lseek(f, 0, SEEK_CUR));
            errno = 0;
            r = preadv(f, out, 2, -1);
            SAY("preadv at -1: %ld %s\n", r, errno == EINVAL ? "EINVAL" : "?");
            close(f);
            MUST(pipe(p));
            errno = 0;
            r = preadv(p[0], out, 2, 0);
            SAY("preadv of a pipe: %ld %s\n", r, errno == ESPIPE ? "ESPIPE" : "?");
            return 0;
        }
        """;

    private const string StdinReadsSource = """
        static char big[1 << 20];

        int main(void)
        {
            alarm(5);
            long total = 0, largest = 0, r;
            while ((r = read(0, big, sizeof big)) > 0) {
                total += r;
                if (r > largest) largest = r;
            }
            SAY("read to EOF: %ld, total 65536 %d, no read above 65536 %d\n", r, total == 65536, largest <= 65536);
            return 0;
        }
        """;

    private const string PollSource = """
        static void nothing(int sig) { (void)sig; }

        int main(void)
        {
            int p[2];
            MUST(pipe(p));
            struct pollfd pf[3];
            long long t0 = now_ns(CLOCK_MONOTONIC);
            pf[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
            int r = poll(pf, 1, 60);
            long long el = now_ns(CLOCK_MONOTONIC) - t0;
            SAY("poll empty pipe 60 ms: %d revents %#x waited >= 60 ms %d\n", r, pf[0].revents, el >= 60000000LL);
            pf[1] = (struct pollfd){ .fd = p[1], .events = POLLOUT | POLLIN };
            r = poll(pf, 2, 0);
            SAY("write end writable: %d revents %#x %#x\n", r, pf[0].revents, pf[1].revents);
            write(p[1], "abc", 3);
            r = poll(pf, 1, 1000);
            SAY("after a write: %d revents %#x\n", r, pf[0].revents);
            pf[2] = (struct pollfd){ .fd = -1, .events = POLLIN };
            pf[1] = (struct pollfd){ .fd = 1000, .events = POLLIN };
            r = poll(pf, 3, 0);
            SAY("with a negative fd and a closed fd: %d revents %#x %#x %#x\n", r, pf[0].revents, pf[1].revents, pf[2].revents);

            /* a child writes later: poll with no timeout wakes up */
            char b[16];
            read(p[0], b, sizeof b);
            pid_t c = fork();
            if (c == 0) { sleep_ms(50); write(p[1], "x", 1); _exit(0); }
            pf[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
            r = poll(pf, 1, -1);
            SAY("woken by the child's write: %d revents %#x\n", r, pf[0].revents);
            int status;
            waitpid(c, &status, 0);
            read(p[0], b, 1);

            /* hang-up and error */
            close(p[1]);
            r = poll(pf, 1, 0);
            SAY("writer closed: %d revents %#x\n", r, pf[0].revents);
            close(p[0]);
            MUST(pipe(p));
            close(p[0]);
            pf[0] = (struct pollfd){ .fd = p[1], .events = POLLOUT };
            r = poll(pf, 1, 0);
            SAY("reader closed: %d revents %#x\n", r, pf[0].revents);
            close(p[1]);

            /* select */
            MUST(pipe(p));
            fd_set rd, wr;
            FD_ZERO(&rd);
            FD_SET(p[0], &rd);
            struct timeval tv = { 0, 50000 };
            t0 = now_ns(CLOCK_MONOTONIC);
            r = select(p[0] + 1, &rd, NULL, NULL, &tv);
            el = now_ns(CLOCK_MONOTONIC) - t0;
            SAY("select timeout: %d readable %d waited >= 50 ms %d timeval left %ld.%06ld\n", r, FD_ISSET(p[0], &rd), el >= 50000000LL, (long)tv.tv_sec, (long)tv.tv_usec);
            FD_ZERO(&rd);
            FD_ZERO(&wr);
            FD_SET(p[0], &rd);
            FD_SET(p[1], &wr);
            write(p[1], "y", 1);
            tv = (struct timeval){ 1, 0 };
            r = select(p[1] + 1, &rd, &wr, NULL, &tv);
            SAY("select ready: %d readable %d writable %d time left > 0 %d\n", r, FD_ISSET(p[0], &rd), FD_ISSET(p[1], &wr), tv.tv_sec > 0 || tv.tv_usec > 0);
            FD_ZERO(&rd);
            FD_SET(50, &rd);
            errno = 0;
            r = select(51, &rd, NULL, NULL, &(struct timeval){ 0, 0 });
            SAY("select on a closed fd: %d %s\n", r, errno == EBADF ? "EBADF" : "?");

            /* pselect with a signal mask: SIGUSR1 is only deliverable while waiting */
            sigset_t usr, none;
            sigemptyset(&usr);
            sigaddset(&usr, SIGUSR1);
            sigemptyset(&none);
            sigprocmask(SIG_BLOCK, &usr, NULL);
            struct sigaction sa = { 0 };
            sa.sa_handler = nothing;  /* only the interruption matters */
            sigaction(SIGUSR1, &sa, NULL);
            read(p[0], b, 1);
            pid_t parent = getpid();
            c = fork();
            if (c == 0) { sleep_ms(50); kill(parent, SIGUSR1); _exit(0); }
            FD_ZERO(&rd);
            FD_SET(p[0], &rd);
            struct timespec ts = { 5, 0 };
            errno = 0;
            r = pselect(p[0] + 1, &rd, NULL, NULL, &ts, &none);
            SAY("pselect interrupted: %d %s\n", r, errno == EINTR ? "EINTR" : "?");
            waitpid(c, &status, 0);
            c = fork();
            if (c == 0) { sleep_ms(50); kill(parent, SIGUSR1); _exit(0); }
            pf[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
            errno = 0;
            r = ppoll(pf, 1, &ts, &none);
            SAY("ppoll interrupted: %d %s\n", r, errno == EINTR ? "EINTR" : "?");
            waitpid(c, &status, 0);
            sigset_t cur;
            sigprocmask(SIG_BLOCK, NULL, &cur);
            SAY("mask restored: %d\n", sigismember(&cur, SIGUSR1));
            ts = (struct timespec){ 0, 30000000 };
            t0 = now_ns(CLOCK_MONOTONIC);
            r = ppoll(pf, 1, &ts, NULL);
            SAY("ppoll timeout: %d waited >= 30 ms %d\n", r, now_ns(CLOCK_MONOTONIC) - t0 >= 30000000LL);
            /* poll with no fds is a sleep */
            t0 = now_ns(CLOCK_MONOTONIC);
            r = poll(NULL, 0, 30);
            SAY("poll(NULL, 0, 30): %d waited >= 30 ms %d\n", r, now_ns(CLOCK_MONOTONIC) - t0 >= 30000000LL);
            return 0;
        }
        """;
}
