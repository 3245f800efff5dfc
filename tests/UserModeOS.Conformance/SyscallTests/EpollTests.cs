namespace UserModeOS.Conformance.SyscallTests;

/// <summary>
/// epoll(7): argument errors, level- and edge-triggered pipes, ONESHOT re-armed with MOD,
/// blocking waits woken by a child, timeouts, signals, sockets, nested instances and
/// registrations following the open file description, native vs umos.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class EpollTests(string compiler)
{
    private const string Common = """
        #include <poll.h>
        #include <sys/epoll.h>
        #include <sys/eventfd.h>
        #include <sys/socket.h>
        #include <sys/wait.h>

        #ifndef SYS_epoll_pwait2
        #define SYS_epoll_pwait2 441
        #endif

        /* Waits (timeout in ms) and prints what came back: count, then each event's bits and data. */
        static int show(const char *what, int ep, int max, int timeout)
        {
            struct epoll_event out[8];
            memset(out, 0, sizeof out);
            errno = 0;
            int n = epoll_wait(ep, out, max, timeout);
            if (n < 0) { printf("%s: %s\n", what, errname(errno)); return n; }
            printf("%s: %d", what, n);
            for (int i = 0; i < n; i++) printf(" [%#x %llx]", out[i].events, (unsigned long long)out[i].data.u64);
            printf("\n");
            return n;
        }

        /* The fdinfo of an epoll fd: flags and each tfd line up to its inode (which differs between runs). */
        static void fdinfo(int ep)
        {
            char path[64], line[256];
            snprintf(path, sizeof path, "/proc/self/fdinfo/%d", ep);
            FILE *f = fopen(path, "r");
            if (!f) { printf("fdinfo: %s\n", errname(errno)); return; }
            while (fgets(line, sizeof line, f)) {
                if (!strncmp(line, "flags:", 6)) printf("%s", line);
                if (!strncmp(line, "tfd:", 4)) { char *ino = strstr(line, " ino:"); if (ino) *ino = 0; printf("%s\n", line); }
            }
            fclose(f);
        }

        static long elapsed_ms(struct timespec *since)
        {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
        }

        static int caught;
        static void on_signal(int s) { caught = s; }
        """;

    private const string Errors = """
        int main(void)
        {
            struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 };
            struct epoll_event out[4];
            char b[8];
            CHECK(epoll_create(0));
            CHECK(epoll_create(-1));
            CHECK(epoll_create1(1));
            CHECK(epoll_create1(EPOLL_CLOEXEC | O_NONBLOCK));
            int ep = epoll_create1(EPOLL_CLOEXEC);
            CHECK(ep);
            CHECK(fcntl(ep, F_GETFD));
            CHECK(fcntl(ep, F_GETFL) & O_ACCMODE);
            int other = epoll_create(1);
            CHECK(other);
            CHECK(fcntl(other, F_GETFD));
            int p[2];
            CHECK(pipe(p));
            int f = open("file", O_CREAT | O_RDWR, 0600);
            int d = open(".", O_RDONLY | O_DIRECTORY);

            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, 99, &ev));
            CHECK(epoll_ctl(99, EPOLL_CTL_ADD, p[0], &ev));
            CHECK(epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &ev));
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev));
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev));
            int o = open("/dev/null", O_PATH);
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, o, &ev));
            CHECK(close(o));
            /* Devices whose driver has no poll operation are refused too; /dev/random has one. */
            const char *devices[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" };
            for (int i = 0; i < 5; i++) {
                int dev = open(devices[i], O_RDONLY);
                errno = 0;
                long r = epoll_ctl(ep, EPOLL_CTL_ADD, dev, &ev);
                SAY("epoll_ctl ADD %s: %s\n", devices[i], r == 0 ? "ok" : errname(errno));
                close(dev);
            }
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], WILD));
            CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
            CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
            CHECK(epoll_ctl(ep, 42, p[0], &ev));
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
            ev.events = EPOLLIN | EPOLLEXCLUSIVE;
            CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
            ev.events = EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT;
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev));
            ev.events = EPOLLOUT | EPOLLEXCLUSIVE;
            CHECK(epoll_ctl(other, EPOLL_CTL_ADD, ep, &ev));
            ev.data.u64 = 0xfeedfacecafebeefULL;
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev));
            ev.events = EPOLLOUT;
            CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev));
            CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
            CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
            fdinfo(ep);

            CHECK(epoll_wait(ep, out, 0, 0));
            CHECK(epoll_wait(ep, out, -1, 0));
            CHECK(epoll_wait(p[0], out, 4, 0));
            CHECK(epoll_wait(99, out, 4, 0));
            CHECK(epoll_wait(ep, WILD, 4, 0));
            show("exclusive writer", ep, 4, 0);
            CHECK(syscall(SYS_epoll_pwait, ep, out, 4, 0, NULL, 8));
            sigset_t none;
            sigemptyset(&none);
            CHECK(syscall(SYS_epoll_pwait, ep, out, 4, 0, &none, 4));
            struct timespec bad = { 0, 1000000000 }, zero = { 0, 0 };
            CHECK(syscall(SYS_epoll_pwait2, ep, out, 4, &bad, NULL, 8));
            CHECK(syscall(SYS_epoll_pwait2, ep, out, 4, &zero, NULL, 8));
            CHECK(syscall(SYS_epoll_pwait2, ep, out, 4, WILD, NULL, 8));

            CHECK(read(ep, b, sizeof b));
            CHECK(write(ep, "x", 1));
            CHECK(lseek(ep, 0, SEEK_SET));
            struct stat st;
            CHECK(fstat(ep, &st));
            SAY("mode %o\n", st.st_mode);
            char path[64], link[64] = "";
            snprintf(path, sizeof path, "/proc/self/fd/%d", ep);
            CHECK(readlink(path, link, sizeof link - 1));
            SAY("link %s\n", link);

            int inner = epoll_create1(0);
            ev.events = EPOLLIN;
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, inner, &ev));
            CHECK(epoll_ctl(inner, EPOLL_CTL_ADD, ep, &ev));
            CHECK(epoll_ctl(inner, EPOLL_CTL_ADD, inner, &ev));
            return 0;
        }
        """;

    private const string Triggering = """
        int main(void)
        {
            char b[64];
            int p[2], q[2];
            CHECK(pipe(p));
            CHECK(pipe(q));
            int lt = epoll_create1(0), et = epoll_create1(0);
            struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1122334455667788ULL };
            CHECK(epoll_ctl(lt, EPOLL_CTL_ADD, p[0], &ev));
            ev.events = EPOLLIN | EPOLLET;
            ev.data.u64 = 2;
            CHECK(epoll_ctl(et, EPOLL_CTL_ADD, p[0], &ev));
            show("lt empty", lt, 8, 0);
            show("et empty", et, 8, 0);
            CHECK(write(p[1], "abc", 3));
            show("lt data", lt, 8, 0);
            show("lt again", lt, 8, 0);
            show("et data", et, 8, 0);
            show("et again", et, 8, 0);
            CHECK(write(p[1], "de", 2));
            show("et more", et, 8, 0);
            show("et more again", et, 8, 0);
            CHECK(read(p[0], b, sizeof b));
            show("lt drained", lt, 8, 0);
            show("et drained", et, 8, 0);
            CHECK(write(p[1], "f", 1));
            show("et refilled", et, 8, 0);

            /* The ready list keeps the order files became ready in; level-triggered ones go round. */
            ev.events = EPOLLIN;
            ev.data.u64 = 0xb;
            CHECK(epoll_ctl(lt, EPOLL_CTL_ADD, q[0], &ev));
            CHECK(write(q[1], "q", 1));
            show("two", lt, 8, 0);
            show("first of two", lt, 1, 0);
            show("second of two", lt, 1, 0);
            show("first again", lt, 1, 0);

            ev.events = EPOLLOUT;
            ev.data.u64 = 0xc;
            CHECK(epoll_ctl(lt, EPOLL_CTL_ADD, q[1], &ev));
            CHECK(epoll_ctl(lt, EPOLL_CTL_DEL, p[0], NULL));
            CHECK(epoll_ctl(lt, EPOLL_CTL_DEL, q[0], NULL));
            show("writer", lt, 8, 0);
            CHECK(fcntl(q[1], F_SETFL, O_NONBLOCK));
            long total = 0, n;
            while ((n = write(q[1], b, sizeof b)) > 0) total += n;
            SAY("filled %ld\n", total);
            show("full", lt, 8, 0);
            CHECK(close(q[0]));
            show("reader gone", lt, 8, 0);

            CHECK(close(p[1]));
            show("et hangup", et, 8, 0);
            show("et hangup again", et, 8, 0);
            return 0;
        }
        """;

    private const string OneShot = """
        int main(void)
        {
            int p[2];
            CHECK(pipe(p));
            int ep = epoll_create1(0);
            struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 1 };
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
            CHECK(write(p[1], "x", 1));
            CHECK(epoll_wait(ep, WILD, 8, 0));
            show("fired", ep, 8, 0);
            show("disabled", ep, 8, 0);
            fdinfo(ep);
            CHECK(write(p[1], "y", 1));
            show("still disabled", ep, 8, 0);
            ev.data.u64 = 2;
            CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
            show("re-armed", ep, 8, 0);
            show("disabled again", ep, 8, 0);
            ev.events = EPOLLIN | EPOLLONESHOT | EPOLLET;
            ev.data.u64 = 3;
            CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
            show("edge re-armed", ep, 8, 0);
            show("edge disabled", ep, 8, 0);
            ev.events = EPOLLIN;
            ev.data.u64 = 4;
            CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
            show("level", ep, 8, 0);
            show("level again", ep, 8, 0);
            fdinfo(ep);
            CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
            show("deleted", ep, 8, 0);
            return 0;
        }
        """;

    private const string Blocking = """
        int main(void)
        {
            int p[2], status;
            CHECK(pipe(p));
            int ep = epoll_create1(0);
            struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 42 };
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) { usleep(100000); write(p[1], "x", 1); _exit(0); }
            show("woken by child", ep, 8, -1);
            CHECK(waitpid(pid, &status, 0) == pid);

            char c;
            CHECK(read(p[0], &c, 1));
            fflush(stdout);
            pid = fork();
            if (pid == 0) { usleep(100000); close(p[1]); _exit(0); }
            CHECK(close(p[1]));
            show("writer closed", ep, 8, 5000);
            CHECK(waitpid(pid, &status, 0) == pid);

            int e2 = epoll_create1(0), q[2];
            CHECK(pipe(q));
            CHECK(epoll_ctl(e2, EPOLL_CTL_ADD, q[0], &ev));
            struct timespec start;
            clock_gettime(CLOCK_MONOTONIC, &start);
            int r = epoll_wait(e2, (struct epoll_event[1]){0}, 1, 100);
            SAY("epoll_wait timed out: %d\n", r == 0 && elapsed_ms(&start) >= 95);
            struct timespec ts = { 0, 100000000 };
            clock_gettime(CLOCK_MONOTONIC, &start);
            r = syscall(SYS_epoll_pwait2, e2, (struct epoll_event[1]){0}, 1, &ts, NULL, 8);
            SAY("epoll_pwait2 timed out: %d\n", r == 0 && elapsed_ms(&start) >= 95);
            clock_gettime(CLOCK_MONOTONIC, &start);
            r = epoll_pwait(e2, (struct epoll_event[1]){0}, 1, 100, NULL);
            SAY("epoll_pwait timed out: %d\n", r == 0 && elapsed_ms(&start) >= 95);
            return 0;
        }
        """;

    private const string Interrupted = """
        int main(void)
        {
            int p[2];
            CHECK(pipe(p));
            int ep = epoll_create1(0);
            struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 };
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));

            /* SA_RESTART does not matter: epoll_wait is never restarted. */
            struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
            sigemptyset(&sa.sa_mask);
            CHECK(sigaction(SIGALRM, &sa, NULL));
            struct itimerval tv = { { 0, 0 }, { 0, 100000 } };
            CHECK(setitimer(ITIMER_REAL, &tv, NULL));
            show("alarm", ep, 8, -1);
            SAY("caught %d\n", caught);

            /* epoll_pwait lets SIGALRM in for the wait only. */
            caught = 0;
            sigset_t block, none, now;
            sigemptyset(&block);
            sigaddset(&block, SIGALRM);
            sigemptyset(&none);
            CHECK(sigprocmask(SIG_BLOCK, &block, NULL));
            CHECK(setitimer(ITIMER_REAL, &tv, NULL));
            struct epoll_event out[1];
            CHECK(epoll_pwait(ep, out, 1, -1, &none));
            SAY("caught %d\n", caught);
            CHECK(sigprocmask(SIG_BLOCK, NULL, &now));
            SAY("SIGALRM blocked after: %d\n", sigismember(&now, SIGALRM));

            /* With the signal kept blocked, the timeout ends the wait instead. */
            caught = 0;
            CHECK(setitimer(ITIMER_REAL, &tv, NULL));
            CHECK(epoll_pwait(ep, out, 1, 300, &block));
            SAY("caught %d\n", caught);
            return 0;
        }
        """;

    private const string Sockets = """
        int main(void)
        {
            int sv[2];
            CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
            int ep = epoll_create1(0);
            struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.u64 = 5 };
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev));
            show("fresh", ep, 8, 0);
            CHECK(write(sv[1], "hi", 2));
            show("data", ep, 8, 0);
            CHECK(shutdown(sv[1], SHUT_WR));
            show("peer shut write", ep, 8, 0);
            CHECK(close(sv[1]));
            show("peer closed", ep, 8, 0);

            int ds[2];
            CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, ds));
            ev.events = EPOLLIN | EPOLLET;
            ev.data.u64 = 6;
            CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, sv[0], NULL));
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ds[0], &ev));
            show("dgram empty", ep, 8, 0);
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) { usleep(100000); send(ds[1], "one", 3, 0); _exit(0); }
            show("dgram woken", ep, 8, 5000);
            show("dgram edge gone", ep, 8, 0);
            waitpid(pid, NULL, 0);
            return 0;
        }
        """;

    private const string Nesting = """
        int main(void)
        {
            int p[2], q[2];
            CHECK(pipe(p));
            CHECK(pipe(q));
            int inner = epoll_create1(0), outer = epoll_create1(0);
            struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1 };
            CHECK(epoll_ctl(inner, EPOLL_CTL_ADD, p[0], &ev));
            ev.data.u64 = 0x2;
            CHECK(epoll_ctl(outer, EPOLL_CTL_ADD, inner, &ev));
            ev.data.u64 = 0x3;
            CHECK(epoll_ctl(outer, EPOLL_CTL_ADD, q[0], &ev));
            struct pollfd pf = { inner, POLLIN | POLLOUT, 0 };
            CHECK(poll(&pf, 1, 0));
            show("outer idle", outer, 8, 0);
            CHECK(write(p[1], "x", 1));
            CHECK(poll(&pf, 1, 0));
            SAY("revents %#x\n", pf.revents);
            show("outer sees inner", outer, 8, 0);
            show("inner", inner, 8, 0);
            char c;
            CHECK(read(p[0], &c, 1));
            show("outer after read", outer, 8, 0);

            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) { usleep(100000); write(p[1], "y", 1); _exit(0); }
            show("outer woken through inner", outer, 8, 5000);
            waitpid(pid, NULL, 0);

            fflush(stdout);
            pid = fork();
            if (pid == 0) { usleep(100000); write(p[1], "z", 1); _exit(0); }
            CHECK(read(p[0], &c, 1));
            pf.revents = 0;
            CHECK(poll(&pf, 1, 5000));
            SAY("poll woken %#x\n", pf.revents);
            waitpid(pid, NULL, 0);
            return 0;
        }
        """;

    private const string Closing = """
        int main(void)
        {
            int p[2];
            CHECK(pipe(p));
            int ep = epoll_create1(0);
            struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0xd0 };
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
            int copy = dup(p[0]);
            CHECK(copy);
            int old = p[0];
            CHECK(close(p[0]));
            CHECK(write(p[1], "x", 1));
            show("dup keeps it", ep, 8, 0);
            fdinfo(ep);
            CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, copy, NULL));
            CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, old, NULL));
            CHECK(close(copy));
            show("last close removes it", ep, 8, 0);
            fdinfo(ep);

            int q[2];
            CHECK(pipe(q));
            SAY("reused fd %d\n", q[0] == old);
            ev.data.u64 = 0xd1;
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev));
            CHECK(write(q[1], "y", 1));
            show("new file at the old number", ep, 8, 0);

            /* A child's copy of the fd table shares the registration; its exit does not remove it. */
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) { close(q[0]); _exit(0); }
            waitpid(pid, NULL, 0);
            show("after child closed its copy", ep, 8, 0);

            /* Closing the epoll fd while registered files stay open. */
            CHECK(close(ep));
            char c;
            CHECK(read(q[0], &c, 1));
            return 0;
        }
        """;

    private const string EventFds = """
        static void rd(const char *what, int fd)
        {
            uint64_t v = 0;
            errno = 0;
            long n = read(fd, &v, sizeof v);
            if (n < 0) printf("%s: %s\n", what, errname(errno));
            else printf("%s: %ld %llu\n", what, n, (unsigned long long)v);
        }

        static void wr(const char *what, int fd, uint64_t v)
        {
            errno = 0;
            long n = write(fd, &v, sizeof v);
            if (n < 0) printf("%s: %s\n", what, errname(errno));
            else printf("%s: %ld\n", what, n);
        }

        static void count(int fd)
        {
            char path[64], line[128];
            snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
            FILE *f = fopen(path, "r");
            while (f && fgets(line, sizeof line, f)) if (!strncmp(line, "eventfd-count", 13) || !strncmp(line, "flags", 5)) printf("%s", line);
            if (f) fclose(f);
        }

        int main(void)
        {
            CHECK(eventfd(0, 0x4));
            CHECK(syscall(SYS_eventfd2, 0, 0x4));
            int e = eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);
            CHECK(e);
            CHECK(fcntl(e, F_GETFD));
            CHECK(fcntl(e, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
            count(e);
            char small[4];
            CHECK(read(e, small, sizeof small));
            CHECK(write(e, small, sizeof small));
            wr("write max", e, UINT64_MAX);
            rd("read", e);
            rd("read empty", e);
            wr("write 5", e, 5);
            wr("write 7", e, 7);
            uint64_t big[2] = { 0, 0 };
            CHECK(read(e, big, sizeof big));
            SAY("big %llu\n", (unsigned long long)big[0]);
            wr("write near max", e, UINT64_MAX - 1);
            wr("write one more", e, 1);
            struct pollfd pf = { e, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, 0 };
            CHECK(poll(&pf, 1, 0));
            SAY("full revents %#x\n", pf.revents);
            rd("read full", e);
            CHECK(poll(&pf, 1, 0));
            SAY("empty revents %#x\n", pf.revents);
            CHECK(lseek(e, 0, SEEK_SET));
            char path[64], link[64] = "";
            snprintf(path, sizeof path, "/proc/self/fd/%d", e);
            CHECK(readlink(path, link, sizeof link - 1));
            SAY("link %s\n", link);

            int s = syscall(SYS_eventfd2, 2, EFD_SEMAPHORE | EFD_NONBLOCK);
            CHECK(s);
            count(s);
            rd("semaphore", s);
            rd("semaphore", s);
            rd("semaphore empty", s);

            /* With epoll: level-triggered while the count is up, edge-triggered once per write. */
            int ep = epoll_create1(0);
            struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 0xe };
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev));
            show("idle", ep, 8, 0);
            wr("signal", e, 1);
            show("signalled", ep, 8, 0);
            show("edge gone", ep, 8, 0);
            wr("signal again", e, 1);
            show("signalled again", ep, 8, 0);
            rd("drain", e);

            /* A blocking read woken by a child's write; an epoll_wait woken the same way. */
            int b = eventfd(0, 0);
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) { usleep(100000); uint64_t one = 40; write(b, &one, 8); usleep(100000); one = 2; write(e, &one, 8); _exit(0); }
            rd("blocking read", b);
            show("woken by child", ep, 8, 5000);
            waitpid(pid, NULL, 0);
            return 0;
        }
        """;

    private void Run(string program) => SyscallPrograms.AssertSameAsNative(Common + "\n" + program, compiler);

    [Test]
    public void ArgumentErrors() => Run(Errors);

    [Test]
    public void LevelAndEdgeTriggeredPipes() => Run(Triggering);

    [Test]
    public void OneShotAndModify() => Run(OneShot);

    [Test]
    public void BlockingWaitsAndTimeouts() => Run(Blocking);

    [Test]
    public void SignalsInterruptTheWait() => Run(Interrupted);

    [Test]
    public void UnixSockets() => Run(Sockets);

    [Test]
    public void NestedInstances() => Run(Nesting);

    [Test]
    public void RegistrationsFollowTheDescription() => Run(Closing);

    [Test]
    public void EventFdCounters() => Run(EventFds);
}
