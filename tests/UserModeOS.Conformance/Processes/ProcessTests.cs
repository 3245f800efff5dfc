namespace UserModeOS.Conformance.Processes;

/// <summary>fork, vfork, execve (ELF and #! scripts), wait4/waitid, process groups and sessions, prctl, rusage and the clocks.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class ProcessTests(string compiler)
{
    /// <summary>fork and exec chains, copy-on-write, MAP_SHARED, vfork, posix_spawn, CLOEXEC and handler reset across exec, orphan adoption.</summary>
    [Test]
    public void ForkVforkExecWait() => ProcessPrograms.AssertSameAsNative(ForkExecSource, compiler);

    /// <summary>#! scripts: interpreter plus one optional argument, nesting, ENOEXEC/EACCES/ENOENT, a CRLF line.</summary>
    [Test]
    public void ShebangScripts() => ProcessPrograms.AssertSameAsNative(ShebangSource, compiler);

    /// <summary>waitid with P_PID, P_PGID, P_ALL, WNOHANG, WNOWAIT, WSTOPPED, WCONTINUED; waitpid on groups; wait4 rusage.</summary>
    [Test]
    public void Waitid() => ProcessPrograms.AssertSameAsNative(WaitidSource, compiler);

    /// <summary>setpgid/getpgid/getpgrp/setsid/getsid and their errors, EACCES after exec, kill of a group.</summary>
    [Test]
    public void GroupsAndSessions() => ProcessPrograms.AssertSameAsNative(GroupsSource, compiler);

    /// <summary>PR_SET_NAME/PR_GET_NAME per thread and across fork, PR_SET_PDEATHSIG.</summary>
    [Test]
    public void Prctl() => ProcessPrograms.AssertSameAsNative(PrctlSource, compiler);

    /// <summary>getrusage (self, children, thread), wait4 rusage and times() basics.</summary>
    [Test]
    public void RusageAndTimes() => ProcessPrograms.AssertSameAsNative(RusageSource, compiler);

    /// <summary>clock_gettime/clock_getres for REALTIME, MONOTONIC, BOOTTIME, the COARSE clocks, MONOTONIC_RAW and the CPU-time clocks; clock_nanosleep.</summary>
    [Test]
    public void Clocks() => ProcessPrograms.AssertSameAsNative(ClocksSource, compiler);

    private const string ForkExecSource = """
        extern char **environ;

        static int chain(int depth)
        {
            if (depth == 0) return 0;
            pid_t c = fork();
            if (c < 0) DIE("fork");
            if (c == 0) _exit(chain(depth - 1) + 1);
            int status;
            pid_t w = waitpid(c, &status, 0);
            if (w != c || !WIFEXITED(status)) DIE("chain wait");
            return WEXITSTATUS(status);
        }

        int main(int argc, char **argv)
        {
            if (argc > 1 && strcmp(argv[1], "exec-chain") == 0) {
                int n = atoi(argv[2]);
                SAY("exec-chain %d pid same %d\n", n, getpid() == atoi(argv[3]));
                if (n == 0) return 42;
                char nb[16];
                snprintf(nb, sizeof nb, "%d", n - 1);
                execl(argv[0], argv[0], "exec-chain", nb, argv[3], (char *)NULL);
                DIE("execl");
            }
            if (argc > 1 && strcmp(argv[1], "cloexec") == 0) {
                SAY("fd 5 open after exec: %d, fd 6 open after exec: %d\n", fcntl(5, F_GETFD) >= 0, fcntl(6, F_GETFD) >= 0);
                struct sigaction sa;
                sigaction(SIGUSR1, NULL, &sa);
                int dfl = sa.sa_handler == SIG_DFL;
                sigaction(SIGUSR2, NULL, &sa);
                SAY("handled SIGUSR1 reset to default: %d; ignored SIGUSR2 stays ignored: %d\n", dfl, sa.sa_handler == SIG_IGN);
                sigset_t m;
                sigprocmask(SIG_BLOCK, NULL, &m);
                SAY("mask kept across exec: %d\n", sigismember(&m, SIGHUP));
                return 0;
            }

            int status;
            /* fork: child pid == fork return; getppid in child == parent */
            int p[2];
            MUST(pipe(p));
            pid_t parent = getpid();
            pid_t c = fork();
            if (c == 0) {
                pid_t me = getpid();
                write(p[1], &me, sizeof me);
                _exit(getppid() == parent ? 3 : 4);
            }
            pid_t reported;
            MUST(read(p[0], &reported, sizeof reported));
            SAY("child pid == fork return: %d\n", reported == c);
            MUST(waitpid(c, &status, 0));
            describe_status("fork child", status);
            close(p[0]); close(p[1]);

            /* a chain of 6 nested forks, each adding one to its child's status */
            SAY("fork chain of 6: %d\n", chain(6));

            /* copy-on-write: the child's writes are its own */
            static char page[3 * 4096];
            memset(page, 'p', sizeof page);
            int heap_value = 10;
            int *heap = malloc(sizeof(int));
            *heap = 20;
            c = fork();
            if (c == 0) { memset(page, 'c', sizeof page); heap_value = 11; *heap = 21; _exit(page[5000] == 'c' && heap_value == 11 && *heap == 21); }
            MUST(waitpid(c, &status, 0));
            SAY("child saw its writes: %d; parent unchanged: %d %d %d\n", WEXITSTATUS(status), page[5000] == 'p', heap_value == 10, *heap == 20);

            /* MAP_SHARED anonymous memory is shared with the child */
            int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
            *shared = 1;
            c = fork();
            if (c == 0) { *shared = 99; _exit(0); }
            MUST(waitpid(c, &status, 0));
            SAY("MAP_SHARED after child write: %d\n", *shared);

            /* vfork: the parent waits until the child exits; the child ran first */
            volatile int order = 0;
            c = vfork();
            if (c == 0) { order = 1; _exit(5); }
            SAY("vfork: child ran before parent resumed: %d\n", order == 1);
            MUST(waitpid(c, &status, 0));
            describe_status("vfork child", status);

            /* vfork + execve */
            c = vfork();
            if (c == 0) {
                char *args[] = { "busybox", "sh", "-c", "exit 6", NULL };
                execve("/bin/busybox", args, environ);
                _exit(127);
            }
            MUST(waitpid(c, &status, 0));
            describe_status("vfork+exec busybox sh -c 'exit 6'", status);

            /* exec failure in the child is reported */
            c = fork();
            if (c == 0) {
                execl("/no/such/program", "x", (char *)NULL);
                _exit(errno == ENOENT ? 127 : 1);
            }
            MUST(waitpid(c, &status, 0));
            describe_status("exec of a missing file", status);

            /* exec chain: the same process execs itself 4 times */
            c = fork();
            if (c == 0) {
                char pid[16];
                snprintf(pid, sizeof pid, "%d", getpid());
                execl(argv[0], argv[0], "exec-chain", "4", pid, (char *)NULL);
                _exit(127);
            }
            MUST(waitpid(c, &status, 0));
            describe_status("exec chain", status);

            /* exec closes CLOEXEC fds, resets handlers, keeps the mask and ignored signals */
            c = fork();
            if (c == 0) {
                int a = open("/dev/null", O_RDONLY);
                int b = open("/dev/null", O_RDONLY | O_CLOEXEC);
                dup2(a, 5);
                dup3(b, 6, O_CLOEXEC);
                signal(SIGUSR1, (void (*)(int))exit);
                signal(SIGUSR2, SIG_IGN);
                sigset_t m;
                sigemptyset(&m);
                sigaddset(&m, SIGHUP);
                sigprocmask(SIG_BLOCK, &m, NULL);
                setenv("KEEP_FDS", "1", 1);
                execl(argv[0], argv[0], "cloexec", (char *)NULL);
                _exit(127);
            }
            MUST(waitpid(c, &status, 0));
            describe_status("cloexec child", status);

            /* posix_spawn */
            extern int posix_spawn(pid_t *, const char *, const void *, const void *, char *const[], char *const[]);
            char *sargs[] = { "busybox", "sh", "-c", "exit 9", NULL };
            pid_t sp;
            int r = posix_spawn(&sp, "/bin/busybox", NULL, NULL, sargs, environ);
            SAY("posix_spawn: %d\n", r);
            MUST(waitpid(sp, &status, 0));
            describe_status("spawned", status);

            /* wait for a specific child out of order, then any */
            pid_t kids[3];
            for (int i = 0; i < 3; i++) {
                kids[i] = fork();
                if (kids[i] == 0) _exit(20 + i);
            }
            MUST(waitpid(kids[2], &status, 0));
            describe_status("third child first", status);
            int sum = 0;
            for (int i = 0; i < 2; i++) {
                pid_t w = wait(&status);
                sum += (w == kids[0] || w == kids[1]) ? WEXITSTATUS(status) : 1000;
            }
            SAY("the other two: %d\n", sum);
            errno = 0;
            int none = wait(&status);
            SAY("no children left: %d %s\n", none, errno == ECHILD ? "ECHILD" : "?");

            /* orphans are adopted: the grandchild's parent changes when its parent exits */
            MUST(pipe(p));
            c = fork();
            if (c == 0) {
                pid_t mid = getpid();
                pid_t g = fork();
                if (g == 0) {
                    close(p[0]);
                    while (getppid() == mid) sleep_ms(5);
                    char ok = 1;
                    write(p[1], &ok, 1);
                    _exit(0);
                }
                _exit(0);
            }
            close(p[1]);
            MUST(waitpid(c, &status, 0));
            char ok = 0;
            MUST(read(p[0], &ok, 1));
            SAY("orphan saw a new parent: %d\n", ok);
            close(p[0]);

            /* _exit status is truncated to 8 bits; exit from a thread-less child */
            c = fork();
            if (c == 0) _exit(256 + 17);
            MUST(waitpid(c, &status, 0));
            describe_status("_exit(273)", status);
            return 0;
        }
        """;

    private const string ShebangSource = """
        extern char **environ;

        static void put(const char *name, const char *text, int mode)
        {
            int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, mode);
            if (fd < 0) DIE("create %s", name);
            write(fd, text, strlen(text));
            close(fd);
        }

        static void run(const char *path, const char *arg)
        {
            int p[2];
            MUST(pipe(p));
            pid_t c = fork();
            if (c == 0) {
                dup2(p[1], 1);
                dup2(p[1], 2);
                close(p[0]);
                close(p[1]);
                char *args[] = { (char *)path, (char *)arg, NULL };
                execve(path, args, environ);
                printf("execve failed: %s\n", errno == ENOEXEC ? "ENOEXEC" : errno == ENOENT ? "ENOENT" : errno == EACCES ? "EACCES" : errno == ELOOP ? "ELOOP" : strerror(errno));
                fflush(stdout);
                _exit(126);
            }
            close(p[1]);
            char buf[4096];
            int n = 0, r;
            while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0) n += r;
            buf[n] = 0;
            close(p[0]);
            int status;
            MUST(waitpid(c, &status, 0));
            SAY("--- %s %s:\n%s", path, arg ? arg : "", buf);
            describe_status("status", status);
        }

        int main(void)
        {
            put("plain.sh", "#!/bin/busybox sh\necho \"script $0 got [$1]\"\nexit 4\n", 0755);
            put("withsp.sh", "#!   /bin/busybox   sh   \necho \"spaces fine $0\"\n", 0755);
            put("echo.sh", "#!/bin/busybox echo\n", 0755);
            put("onearg.sh", "#!/bin/busybox echo one  two \n", 0755);
            put("nested.sh", "#!./plain.sh\n", 0755);
            put("noexec.sh", "#!/bin/busybox sh\necho no\n", 0644);
            put("nointerp.sh", "#!/no/such/interpreter\n", 0755);
            put("garbage", "this is not a program\n", 0755);
            put("empty", "", 0755);
            put("crlf.sh", "#!/bin/busybox sh\r\necho crlf\n", 0755);
            run("./plain.sh", "first");
            run("./withsp.sh", NULL);
            run("./echo.sh", "arg");
            run("./onearg.sh", "x");
            run("./nested.sh", "deep");
            run("./noexec.sh", NULL);
            run("./nointerp.sh", NULL);
            run("./garbage", NULL);
            run("./empty", NULL);
            run("./crlf.sh", NULL);
            return 0;
        }
        """;

    private const string WaitidSource = """
        int main(void)
        {
            siginfo_t si;
            int status;
            errno = 0;
            int r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
            SAY("waitid without children: %d %s\n", r, errno == ECHILD ? "ECHILD" : "?");

            int gate[2];
            MUST(pipe(gate));
            pid_t a = fork();
            if (a == 0) { char b; close(gate[1]); read(gate[0], &b, 1); _exit(11); }
            pid_t b = fork();
            if (b == 0) { setpgid(0, 0); char x; close(gate[1]); read(gate[0], &x, 1); _exit(12); }
            setpgid(b, b);

            memset(&si, 0x55, sizeof si);
            r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
            SAY("WNOHANG with running children: %d si_pid %d si_signo %d\n", r, si.si_pid, si.si_signo);
            close(gate[0]);
            close(gate[1]);

            memset(&si, 0, sizeof si);
            MUST(waitid(P_PID, a, &si, WEXITED | WNOWAIT));
            SAY("P_PID a with WNOWAIT: pid ok %d signo %d code %d (CLD_EXITED) status %d\n", si.si_pid == a, si.si_signo, si.si_code, si.si_status);
            memset(&si, 0, sizeof si);
            MUST(waitid(P_PID, a, &si, WEXITED));
            SAY("P_PID a again: pid ok %d status %d\n", si.si_pid == a, si.si_status);
            errno = 0;
            r = waitid(P_PID, a, &si, WEXITED);
            SAY("P_PID a reaped: %d %s\n", r, errno == ECHILD ? "ECHILD" : "?");

            memset(&si, 0, sizeof si);
            MUST(waitid(P_PGID, b, &si, WEXITED));
            SAY("P_PGID b: pid ok %d status %d\n", si.si_pid == b, si.si_status);

            /* P_PGID 0 is the caller's own group */
            pid_t c = fork();
            if (c == 0) _exit(13);
            memset(&si, 0, sizeof si);
            MUST(waitid(P_PGID, 0, &si, WEXITED));
            SAY("P_PGID 0: pid ok %d status %d\n", si.si_pid == c, si.si_status);

            /* killed, stopped, continued through waitid */
            c = fork();
            if (c == 0) { for (;;) pause(); }
            kill(c, SIGSTOP);
            memset(&si, 0, sizeof si);
            MUST(waitid(P_PID, c, &si, WSTOPPED));
            SAY("stopped: code %d (CLD_STOPPED %d) status %d\n", si.si_code, CLD_STOPPED, si.si_status);
            kill(c, SIGCONT);
            memset(&si, 0, sizeof si);
            MUST(waitid(P_PID, c, &si, WCONTINUED));
            SAY("continued: code %d (CLD_CONTINUED %d) status %d\n", si.si_code, CLD_CONTINUED, si.si_status);
            kill(c, SIGUSR1);
            memset(&si, 0, sizeof si);
            MUST(waitid(P_ALL, 0, &si, WEXITED));
            SAY("killed: code %d (CLD_KILLED %d) status %d\n", si.si_code, CLD_KILLED, si.si_status);

            errno = 0;
            r = waitid(P_ALL, 0, &si, WNOHANG);
            SAY("no WEXITED/WSTOPPED/WCONTINUED: %d %s\n", r, errno == EINVAL ? "EINVAL" : "?");
            errno = 0;
            r = waitid(7, 0, &si, WEXITED);
            SAY("bad idtype: %d %s\n", r, errno == EINVAL ? "EINVAL" : "?");

            /* wait4 with a pid of -pgrp and 0 */
            pid_t d = fork();
            if (d == 0) { setpgid(0, 0); _exit(14); }
            setpgid(d, d);
            MUST(waitpid(-d, &status, 0));
            describe_status("waitpid(-pgrp)", status);
            d = fork();
            if (d == 0) _exit(15);
            MUST(waitpid(0, &status, 0));
            describe_status("waitpid(0)", status);
            struct rusage ru;
            d = fork();
            if (d == 0) _exit(16);
            pid_t w = wait4(d, &status, 0, &ru);
            SAY("wait4 with rusage: pid ok %d\n", w == d);
            describe_status("wait4", status);
            return 0;
        }
        """;

    private const string GroupsSource = """
        extern char **environ;
        int main(void)
        {
            int status;
            pid_t me = getpid();
            SAY("getpgrp == getpgid(0): %d; getsid(0) == getsid(me): %d\n", getpgrp() == getpgid(0), getsid(0) == getsid(me));

            int p[2];
            MUST(pipe(p));
            pid_t c = fork();
            if (c == 0) {
                int ok = 0;
                ok |= (getpgrp() == getpgid(getppid())) << 0;
                ok |= (setpgid(0, 0) == 0) << 1;
                ok |= (getpgrp() == getpid()) << 2;
                ok |= (getsid(0) == getsid(getppid())) << 3;
                errno = 0;
                ok |= (setsid() == -1 && errno == EPERM) << 4;     /* a group leader cannot make a session */
                write(p[1], &ok, sizeof ok);
                _exit(0);
            }
            int ok;
            MUST(read(p[0], &ok, sizeof ok));
            MUST(waitpid(c, &status, 0));
            SAY("child group checks: %#x\n", ok);

            c = fork();
            if (c == 0) {
                int ok = 0;
                pid_t s = setsid();
                ok |= (s == getpid()) << 0;
                ok |= (getsid(0) == getpid()) << 1;
                ok |= (getpgrp() == getpid()) << 2;
                pid_t g = fork();
                if (g == 0) {
                    int k = 0;
                    k |= (getsid(0) == getppid()) << 0;
                    errno = 0;
                    k |= (setpgid(0, getppid()) == 0) << 1;                 /* same session: allowed */
                    _exit(k);
                }
                int st;
                waitpid(g, &st, 0);
                ok |= WEXITSTATUS(st) << 3;
                write(p[1], &ok, sizeof ok);
                _exit(0);
            }
            MUST(read(p[0], &ok, sizeof ok));
            MUST(waitpid(c, &status, 0));
            SAY("setsid checks: %#x\n", ok);

            /* setpgid errors */
            errno = 0;
            int r = setpgid(0, -1);
            SAY("setpgid(0, -1): %d %s\n", r, errno == EINVAL ? "EINVAL" : "?");
            errno = 0;
            r = setpgid(999999, 0);
            SAY("setpgid(no such): %d %s\n", r, errno == ESRCH ? "ESRCH" : "?");
            errno = 0;
            r = getpgid(999999);
            SAY("getpgid(no such): %d %s\n", r, errno == ESRCH ? "ESRCH" : "?");
            errno = 0;
            r = getsid(999999);
            SAY("getsid(no such): %d %s\n", r, errno == ESRCH ? "ESRCH" : "?");

            /* a child that has exec'd can no longer be moved by its parent */
            int gate[2];
            MUST(pipe(gate));
            c = fork();
            if (c == 0) {
                dup2(gate[0], 0);
                close(gate[1]);
                char *args[] = { "busybox", "sh", "-c", "read x", NULL };
                execve("/bin/busybox", args, environ);
                _exit(127);
            }
            close(gate[0]);
            for (int i = 0; i < 200; i++) {  /* until it has exec'd: setpgid turns EACCES */
                errno = 0;
                if (setpgid(c, c) < 0) break;
                sleep_ms(10);
            }
            SAY("setpgid after exec: %s\n", errno == EACCES ? "EACCES" : "?");
            close(gate[1]);
            MUST(waitpid(c, &status, 0));

            /* kill(0, sig) and kill(-pgrp, sig) reach the whole group */
            c = fork();
            if (c == 0) {
                setpgid(0, 0);
                pid_t g = fork();
                if (g == 0) { for (;;) pause(); }
                sleep_ms(20);
                kill(0, SIGTERM);
                for (;;) pause();
            }
            setpgid(c, c);
            MUST(waitpid(c, &status, 0));
            describe_status("kill(0, SIGTERM) leader", status);
            c = fork();
            if (c == 0) {
                setpgid(0, 0);
                for (int i = 0; i < 3; i++) if (fork() == 0) { for (;;) pause(); }
                for (;;) pause();
            }
            setpgid(c, c);
            sleep_ms(50);
            MUST(kill(-c, SIGKILL));
            MUST(waitpid(c, &status, 0));
            describe_status("kill(-pgrp, SIGKILL) leader", status);
            errno = 0;
            r = kill(-999999, SIGTERM);
            SAY("kill(-no such group): %d %s\n", r, errno == ESRCH ? "ESRCH" : "?");
            errno = 0;
            r = kill(getpid(), 0);
            SAY("kill(self, 0): %d\n", r);
            errno = 0;
            r = kill(getpid(), 99);
            SAY("kill(self, 99): %d %s\n", r, errno == EINVAL ? "EINVAL" : "?");
            return 0;
        }
        """;

    private const string PrctlSource = """
        static void *named(void *arg)
        {
            (void)arg;
            prctl(PR_SET_NAME, "worker-thread");
            char name[32] = { 0 };
            prctl(PR_GET_NAME, name);
            SAY("thread name: %s\n", name);
            return NULL;
        }

        static volatile sig_atomic_t death;
        static void on_death(int sig) { death = sig; }

        int main(void)
        {
            char name[32];
            memset(name, 'x', sizeof name);
            MUST(prctl(PR_SET_NAME, "a-much-too-long-process-name"));
            MUST(prctl(PR_GET_NAME, name));
            SAY("name: [%s] len %zu\n", name, strlen(name));
            pthread_t t;
            pthread_create(&t, NULL, named, NULL);
            pthread_join(t, NULL);
            MUST(prctl(PR_GET_NAME, name));
            SAY("process name unchanged by the thread: [%s]\n", name);
            pid_t c = fork();
            if (c == 0) {
                prctl(PR_GET_NAME, name);
                SAY("forked child inherits: [%s]\n", name);
                _exit(0);
            }
            int status;
            MUST(waitpid(c, &status, 0));

            int sig = -1;
            MUST(prctl(PR_GET_PDEATHSIG, &sig));
            SAY("pdeathsig initially %d\n", sig);
            errno = 0;
            int r = prctl(PR_SET_PDEATHSIG, 99);
            SAY("PR_SET_PDEATHSIG 99: %d %s\n", r, errno == EINVAL ? "EINVAL" : "?");

            /* A grandchild asks for SIGUSR1 when its parent dies; it reports through a pipe. */
            int p[2];
            MUST(pipe(p));
            c = fork();
            if (c == 0) {
                int ready[2];
                pipe(ready);
                pid_t g = fork();
                if (g == 0) {
                    signal(SIGUSR1, on_death);
                    prctl(PR_SET_PDEATHSIG, SIGUSR1);
                    int s = 0;
                    prctl(PR_GET_PDEATHSIG, &s);
                    write(ready[1], "r", 1);
                    while (!death) pause();
                    char msg[64];
                    int n = snprintf(msg, sizeof msg, "grandchild got signal %d (had %d)\n", death, s);
                    write(p[1], msg, n);
                    _exit(0);
                }
                char b;
                read(ready[0], &b, 1);
                _exit(0);
            }
            close(p[1]);
            MUST(waitpid(c, &status, 0));
            char buf[128] = { 0 };
            int n = read(p[0], buf, sizeof buf - 1);
            SAY("%s", n > 0 ? buf : "nothing\n");

            /* A forked child does not inherit the death signal. */
            prctl(PR_SET_PDEATHSIG, SIGUSR2);
            c = fork();
            if (c == 0) { int s = -1; prctl(PR_GET_PDEATHSIG, &s); _exit(s); }
            MUST(waitpid(c, &status, 0));
            SAY("child's pdeathsig: %d\n", WEXITSTATUS(status));
            errno = 0;
            r = prctl(12345, 0, 0, 0, 0);
            SAY("unknown option: %d %s\n", r, errno == EINVAL ? "EINVAL" : "?");
            return 0;
        }
        """;

    private const string RusageSource = """
        static void burn(clockid_t clock, long long ns)
        {
            long long start = now_ns(clock);
            volatile unsigned x = 1;
            while (now_ns(clock) - start < ns) for (int i = 0; i < 10000; i++) x = x * 1103515245u + 12345u;
        }

        static void *thread_burn(void *arg)
        {
            (void)arg;
            burn(CLOCK_THREAD_CPUTIME_ID, 30000000LL);
            return NULL;
        }

        int main(void)
        {
            struct rusage self0, self1, kids;
            MUST(getrusage(RUSAGE_SELF, &self0));
            burn(CLOCK_PROCESS_CPUTIME_ID, 50000000LL);
            MUST(getrusage(RUSAGE_SELF, &self1));
            long long u0 = self0.ru_utime.tv_sec * 1000000LL + self0.ru_utime.tv_usec + self0.ru_stime.tv_sec * 1000000LL + self0.ru_stime.tv_usec;
            long long u1 = self1.ru_utime.tv_sec * 1000000LL + self1.ru_utime.tv_usec + self1.ru_stime.tv_sec * 1000000LL + self1.ru_stime.tv_usec;
            SAY("RUSAGE_SELF grew by >= 40 ms: %d\n", u1 - u0 >= 40000);
            MUST(getrusage(RUSAGE_CHILDREN, &kids));
            SAY("RUSAGE_CHILDREN before any child: %ld %ld\n", (long)kids.ru_utime.tv_sec, (long)kids.ru_utime.tv_usec + kids.ru_stime.tv_usec);

            pid_t c = fork();
            if (c == 0) { burn(CLOCK_PROCESS_CPUTIME_ID, 60000000LL); _exit(0); }
            int status;
            struct rusage ru;
            MUST(wait4(c, &status, 0, &ru));
            long long w = ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec;
            SAY("wait4 rusage of the child >= 50 ms: %d\n", w >= 50000);
            MUST(getrusage(RUSAGE_CHILDREN, &kids));
            long long k = kids.ru_utime.tv_sec * 1000000LL + kids.ru_utime.tv_usec + kids.ru_stime.tv_sec * 1000000LL + kids.ru_stime.tv_usec;
            SAY("RUSAGE_CHILDREN after it >= 50 ms: %d\n", k >= 50000);

            struct tms t;
            clock_t before = times(&t);
            SAY("times: children user+sys ticks > 0: %d\n", t.tms_cutime + t.tms_cstime > 0);
            sleep_ms(30);
            clock_t after = times(&t);
            long hz = sysconf(_SC_CLK_TCK);
            SAY("CLK_TCK %ld; times() advanced: %d\n", hz, after > before);

            pthread_t th;
            long long p0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
            pthread_create(&th, NULL, thread_burn, NULL);
            pthread_join(th, NULL);
            SAY("process CPU time includes the thread's: %d\n", now_ns(CLOCK_PROCESS_CPUTIME_ID) - p0 >= 25000000LL);
            struct rusage th_ru;
            MUST(getrusage(RUSAGE_THREAD, &th_ru));
            errno = 0;
            int r = getrusage(7, &ru);
            SAY("getrusage(7): %d %s\n", r, errno == EINVAL ? "EINVAL" : "?");
            return 0;
        }
        """;

    private const string ClocksSource = """
        static void *thread_clock(void *arg)
        {
            (void)arg;
            struct timespec ts;
            SAY("thread: THREAD_CPUTIME_ID ok %d\n", clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 && ts.tv_sec < 5);
            return NULL;
        }

        int main(void)
        {
            static const struct { clockid_t id; const char *name; } clocks[] = {
                { CLOCK_REALTIME, "REALTIME" }, { CLOCK_MONOTONIC, "MONOTONIC" }, { CLOCK_BOOTTIME, "BOOTTIME" },
                { CLOCK_REALTIME_COARSE, "REALTIME_COARSE" }, { CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE" },
                { CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW" }, { CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME_ID" },
                { CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME_ID" },
            };
            for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
                struct timespec a, b, res;
                int ra = clock_gettime(clocks[i].id, &a);
                int rb = clock_gettime(clocks[i].id, &b);
                int rr = clock_getres(clocks[i].id, &res);
                int coarse = clocks[i].id == CLOCK_REALTIME_COARSE || clocks[i].id == CLOCK_MONOTONIC_COARSE;
                SAY("%-18s gettime %d %d getres %d nsec in range %d non-decreasing %d res %s\n", clocks[i].name, ra, rb, rr,
                    a.tv_nsec >= 0 && a.tv_nsec < 1000000000L,
                    b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec),
                    coarse ? (res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 10000000 ? "ok" : "bad") : (res.tv_sec == 0 && res.tv_nsec == 1 ? "1ns" : "bad"));
            }
            /* the raw syscall too (not the vDSO) */
            struct timespec s;
            SAY("syscall clock_gettime MONOTONIC: %ld\n", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &s));
            struct timespec rt, mono, boot, rtc, monoc;
            clock_gettime(CLOCK_REALTIME, &rt);
            clock_gettime(CLOCK_MONOTONIC, &mono);
            clock_gettime(CLOCK_BOOTTIME, &boot);
            clock_gettime(CLOCK_REALTIME_COARSE, &rtc);
            clock_gettime(CLOCK_MONOTONIC_COARSE, &monoc);
            time_t t = time(NULL);
            SAY("REALTIME within 2 s of time(): %d\n", rt.tv_sec - t <= 2 && t - rt.tv_sec <= 2);
            SAY("BOOTTIME >= MONOTONIC: %d\n", boot.tv_sec > mono.tv_sec || (boot.tv_sec == mono.tv_sec && boot.tv_nsec >= mono.tv_nsec));
            SAY("coarse within 50 ms of fine: %d %d\n", llabs((rtc.tv_sec - rt.tv_sec) * 1000000000LL + rtc.tv_nsec - rt.tv_nsec) < 50000000LL,
                llabs((monoc.tv_sec - mono.tv_sec) * 1000000000LL + monoc.tv_nsec - mono.tv_nsec) < 50000000LL);
            long long m0 = now_ns(CLOCK_MONOTONIC);
            sleep_ms(30);
            long long m1 = now_ns(CLOCK_MONOTONIC);
            SAY("MONOTONIC advanced by a 30 ms sleep: %d\n", m1 - m0 >= 30000000LL && m1 - m0 < 5000000000LL);
            long long c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
            volatile unsigned x = 0;
            while (now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0 < 15000000LL && now_ns(CLOCK_MONOTONIC) - m1 < 10000000000LL) x++;
            SAY("PROCESS_CPUTIME advanced while busy: %d\n", now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0 >= 15000000LL);
            errno = 0;
            int r = clock_gettime(12345, &s);
            SAY("bad clock: %d %s\n", r, errno == EINVAL ? "EINVAL" : "?");
            clockid_t pc;
            SAY("clock_getcpuclockid self: %d\n", clock_getcpuclockid(0, &pc));
            SAY("that clock works: %d\n", clock_gettime(pc, &s));
            pthread_t th;
            pthread_create(&th, NULL, thread_clock, NULL);
            pthread_join(th, NULL);
            struct timespec req = { 0, 20000000 };
            m0 = now_ns(CLOCK_MONOTONIC);
            struct timespec abs;
            clock_gettime(CLOCK_MONOTONIC, &abs);
            abs.tv_nsec += 20000000;
            if (abs.tv_nsec >= 1000000000L) { abs.tv_sec++; abs.tv_nsec -= 1000000000L; }
            SAY("clock_nanosleep relative: %d\n", clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL));
            SAY("clock_nanosleep TIMER_ABSTIME: %d\n", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL));
            SAY("both slept: %d\n", now_ns(CLOCK_MONOTONIC) - m0 >= 20000000LL);
            return 0;
        }
        """;
}
