using UserModeOS.Conformance.SyscallTests;

namespace UserModeOS.Conformance.Locks;

/// <summary>
/// Advisory locks between processes of one box, compared with the host kernel: flock(2),
/// POSIX record locks and open file description locks. The programs print relative facts
/// ("PARENT", "SELF") instead of pids, and run in their own temp folder.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class LockTests(string compiler)
{
    private const string Common = """
        #include <sys/file.h>
        #include <sys/wait.h>

        static pid_t parent;

        static const char *tname(short t) { return t == F_UNLCK ? "UNLCK" : t == F_RDLCK ? "RDLCK" : t == F_WRLCK ? "WRLCK" : "?"; }

        /* F_GETLK (or F_OFD_GETLK) over [start, start+len) and what it says. */
        static void getlk(const char *what, int fd, int cmd, short type, off_t start, off_t len)
        {
            struct flock f;
            memset(&f, 0, sizeof f);
            f.l_type = type; f.l_whence = SEEK_SET; f.l_start = start; f.l_len = len;
            errno = 0;
            int r = fcntl(fd, cmd, &f);
            printf("%s: r=%d %s type=%s", what, r, r < 0 ? errname(errno) : "", tname(f.l_type));
            if (r == 0 && f.l_type != F_UNLCK)
                printf(" start=%ld len=%ld pid=%s", (long)f.l_start, (long)f.l_len,
                    f.l_pid == parent ? "PARENT" : f.l_pid == getpid() ? "SELF" : f.l_pid == -1 ? "-1" : "OTHER");
            printf("\n");
        }

        static int setlk(int fd, int cmd, short type, short whence, off_t start, off_t len)
        {
            struct flock f;
            memset(&f, 0, sizeof f);
            f.l_type = type; f.l_whence = whence; f.l_start = start; f.l_len = len;
            return fcntl(fd, cmd, &f);
        }

        static void reap(pid_t c)
        {
            int st;
            waitpid(c, &st, 0);
            printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        }
        """;

    private const string Contention = """
        int main(void)
        {
            setvbuf(stdout, NULL, _IONBF, 0);
            parent = getpid();
            int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
            CHECK(write(fd, "0123456789", 10));
            CHECK(flock(fd, LOCK_EX));
            CHECK(flock(fd, LOCK_EX | LOCK_NB));
            CHECK(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 2, 3));
            CHECK(setlk(fd, F_SETLK, F_RDLCK, SEEK_CUR, 0, 2)); /* [0, 2): the offset is 10 now, so this is [10, 12) */
            CHECK(lseek(fd, 0, SEEK_SET));
            pid_t c = fork();
            if (c == 0) {
                int fd2 = open("f", O_RDWR);
                CHECK(flock(fd2, LOCK_EX | LOCK_NB));
                CHECK(flock(fd2, LOCK_SH | LOCK_NB));
                getlk("whole file", fd2, F_GETLK, F_WRLCK, 0, 0);
                getlk("read over write lock", fd2, F_GETLK, F_RDLCK, 3, 1);
                getlk("read over read lock", fd2, F_GETLK, F_RDLCK, 10, 5);
                getlk("write over read lock", fd2, F_GETLK, F_WRLCK, 11, 5);
                getlk("free bytes", fd2, F_GETLK, F_WRLCK, 5, 5);
                CHECK(setlk(fd2, F_SETLK, F_RDLCK, SEEK_SET, 4, 1));
                CHECK(setlk(fd2, F_SETLK, F_WRLCK, SEEK_END, -5, 0));
                CHECK(setlk(fd2, F_SETLK, F_WRLCK, SEEK_SET, 5, 5));
                CHECK(setlk(fd2, F_SETLK, F_RDLCK, SEEK_SET, 12, 3));
                CHECK(setlk(fd2, F_SETLK, F_RDLCK, SEEK_SET, -1, 3));
                CHECK(setlk(fd2, F_SETLK, 7, SEEK_SET, 0, 3));
                CHECK(setlk(fd2, F_GETLK, F_UNLCK, SEEK_SET, 0, 3));
                _exit(0);
            }
            reap(c);
            /* The child's locks went with it. */
            c = fork();
            if (c == 0) {
                int fd2 = open("f", O_RDWR);
                getlk("after exit", fd2, F_GETLK, F_WRLCK, 5, 5);
                _exit(0);
            }
            reap(c);
            /* Closing ANY fd on the file drops the process's record locks, not its flock lock. */
            int other = open("f", O_RDONLY);
            close(other);
            c = fork();
            if (c == 0) {
                int fd2 = open("f", O_RDWR);
                getlk("after closing another fd", fd2, F_GETLK, F_WRLCK, 0, 0);
                CHECK(flock(fd2, LOCK_SH | LOCK_NB));
                /* The inherited fd shares the parent's description: its flock lock is ours too. */
                CHECK(flock(fd, LOCK_SH | LOCK_NB));
                _exit(0);
            }
            reap(c);
            c = fork();
            if (c == 0) {
                int fd2 = open("f", O_RDWR);
                CHECK(flock(fd2, LOCK_SH | LOCK_NB));
                CHECK(flock(fd2, LOCK_EX | LOCK_NB));
                _exit(0);
            }
            reap(c);
            /* A dup keeps the description (and its flock lock) alive. */
            int d = dup(fd);
            close(fd);
            c = fork();
            if (c == 0) {
                int fd2 = open("f", O_RDWR);
                CHECK(flock(fd2, LOCK_EX | LOCK_NB));
                _exit(0);
            }
            reap(c);
            close(d);
            c = fork();
            if (c == 0) {
                int fd2 = open("f", O_RDWR);
                CHECK(flock(fd2, LOCK_EX | LOCK_NB));
                CHECK(flock(fd2, LOCK_UN));
                CHECK(flock(fd2, LOCK_UN));
                CHECK(flock(fd2, 0));
                CHECK(flock(fd2, LOCK_SH | LOCK_EX));
                CHECK(flock(99, LOCK_SH));
                _exit(0);
            }
            reap(c);
            unlink("f");
            return 0;
        }
        """;

    private const string Ranges = """
        int main(void)
        {
            setvbuf(stdout, NULL, _IONBF, 0);
            parent = getpid();
            int fd = open("r", O_RDWR | O_CREAT | O_TRUNC, 0644);
            CHECK(write(fd, "0123456789abcdef", 16));
            /* Whole file, then a hole punched in the middle: two locks. */
            CHECK(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
            CHECK(setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 3, 2));
            /* A read lock inside the tail splits it again. */
            CHECK(setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 8, 2));
            /* Two adjacent write locks merge. */
            CHECK(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 20, 5));
            CHECK(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 25, 5));
            /* A negative length locks the bytes before the start. */
            CHECK(setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 40, 0));
            CHECK(setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 50, -5));
            /* Adjacent locks of one type merge; of another type they do not. */
            CHECK(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 60, 5));
            CHECK(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 65, 5));
            CHECK(setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 70, 5));
            getlk("own locks never conflict", fd, F_GETLK, F_WRLCK, 0, 0);
            pid_t c = fork();
            if (c == 0) {
                int fd2 = open("r", O_RDWR);
                getlk("head", fd2, F_GETLK, F_WRLCK, 0, 3);
                getlk("hole", fd2, F_GETLK, F_WRLCK, 3, 2);
                getlk("from hole on", fd2, F_GETLK, F_WRLCK, 3, 3);
                getlk("read lock part", fd2, F_GETLK, F_WRLCK, 8, 2);
                getlk("read over read part", fd2, F_GETLK, F_RDLCK, 8, 2);
                getlk("after read part", fd2, F_GETLK, F_RDLCK, 10, 1);
                getlk("merged", fd2, F_GETLK, F_WRLCK, 22, 1);
                getlk("past merged", fd2, F_GETLK, F_WRLCK, 30, 10);
                getlk("negative length", fd2, F_GETLK, F_WRLCK, 44, 10);
                getlk("read ok there", fd2, F_GETLK, F_RDLCK, 44, 10);
                getlk("adjacent merged", fd2, F_GETLK, F_WRLCK, 67, 1);
                getlk("other type kept apart", fd2, F_GETLK, F_WRLCK, 72, 1);
                _exit(0);
            }
            reap(c);
            /* Unlock everything, then one byte far away. */
            CHECK(setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
            CHECK(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1000, 1));
            c = fork();
            if (c == 0) {
                int fd2 = open("r", O_RDWR);
                getlk("all unlocked", fd2, F_GETLK, F_WRLCK, 0, 1000);
                getlk("far byte", fd2, F_GETLK, F_WRLCK, 0, 0);
                _exit(0);
            }
            reap(c);
            unlink("r");
            return 0;
        }
        """;

    private const string Ofd = """
        int main(void)
        {
            setvbuf(stdout, NULL, _IONBF, 0);
            parent = getpid();
            int a = open("o", O_RDWR | O_CREAT | O_TRUNC, 0644);
            int b = open("o", O_RDWR);
            CHECK(setlk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10));
            /* Another description of the same process conflicts. */
            CHECK(setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 10));
            CHECK(setlk(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 10, 10));
            getlk("ofd getlk", b, F_OFD_GETLK, F_WRLCK, 0, 0);
            /* So does a POSIX lock of the same process. */
            CHECK(setlk(b, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
            getlk("posix getlk", b, F_GETLK, F_WRLCK, 0, 0);
            struct flock f;
            memset(&f, 0, sizeof f);
            f.l_type = F_WRLCK; f.l_pid = 1;
            CHECK(fcntl(a, F_OFD_SETLK, &f));
            CHECK(fcntl(a, F_OFD_GETLK, &f));
            /* Closing another fd does not drop OFD locks; a dup keeps the description. */
            int x = open("o", O_RDONLY);
            close(x);
            int d = dup(a);
            close(a);
            CHECK(setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1));
            /* A child sharing the description owns the lock too. */
            pid_t c = fork();
            if (c == 0) {
                CHECK(setlk(d, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 5));
                getlk("child sees", b, F_OFD_GETLK, F_WRLCK, 0, 0);
                _exit(0);
            }
            reap(c);
            getlk("converted by child", b, F_OFD_GETLK, F_WRLCK, 0, 0);
            close(d);
            CHECK(setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 0));
            unlink("o");
            return 0;
        }
        """;

    private const string Waiting = """
        #include <time.h>
        static void on_alarm(int s) { (void)s; }
        static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
        int main(void)
        {
            setvbuf(stdout, NULL, _IONBF, 0);
            parent = getpid();
            int fd = open("w", O_RDWR | O_CREAT | O_TRUNC, 0644);
            CHECK(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
            CHECK(flock(fd, LOCK_EX));
            pid_t c = fork();
            if (c == 0) {
                int fd2 = open("w", O_RDWR);
                double t0 = now();
                CHECK(setlk(fd2, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1));
                printf("child got the record lock after waiting: %d\n", now() - t0 > 0.1);
                t0 = now();
                CHECK(flock(fd2, LOCK_EX));
                printf("child got the flock lock after waiting: %d\n", now() - t0 > 0.1);
                _exit(0);
            }
            usleep(300000);
            printf("parent unlocks the record\n");
            if (setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) != 0) printf("unlock failed\n");
            usleep(300000);
            printf("parent unlocks the flock\n");
            if (flock(fd, LOCK_UN) != 0) printf("unlock failed\n");
            reap(c);

            /* A signal interrupts the wait: EINTR without SA_RESTART. */
            CHECK(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
            CHECK(flock(fd, LOCK_EX));
            c = fork();
            if (c == 0) {
                int fd2 = open("w", O_RDWR);
                struct sigaction sa;
                memset(&sa, 0, sizeof sa);
                sa.sa_handler = on_alarm;
                sigaction(SIGALRM, &sa, NULL);
                struct itimerval it = { { 0, 0 }, { 0, 200000 } };
                setitimer(ITIMER_REAL, &it, NULL);
                CHECK(setlk(fd2, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1));
                setitimer(ITIMER_REAL, &it, NULL);
                CHECK(flock(fd2, LOCK_EX));
                _exit(0);
            }
            reap(c);

            /* Two processes waiting for each other: the second waiter gets EDEADLK. */
            CHECK(setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
            CHECK(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
            c = fork();
            if (c == 0) {
                int fd2 = open("w", O_RDWR);
                CHECK(setlk(fd2, F_SETLK, F_WRLCK, SEEK_SET, 1, 1));
                CHECK(setlk(fd2, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1));
                _exit(0);
            }
            usleep(300000);
            CHECK(setlk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1));
            printf("parent unlocks byte 0\n");
            if (setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1) != 0) printf("unlock failed\n");
            reap(c);
            unlink("w");
            return 0;
        }
        """;

    [Test]
    public void ContentionBetweenProcesses() => Run(Contention);

    [Test]
    public void RangesSplitAndMerge() => Run(Ranges);

    [Test]
    public void OpenFileDescriptionLocks() => Run(Ofd);

    [Test]
    public void WaitersWakeAndCanBeInterrupted() => Run(Waiting);

    private void Run(string program) =>
        SyscallPrograms.AssertSameAsNative(Common + "\n" + program, compiler);
}
