namespace UserModeOS.Conformance.Processes;

/// <summary>Signal delivery as Linux does it: siginfo contents, faults, masks, sigaltstack, queueing, child signals, timers, EINTR and SA_RESTART, sigsuspend, sigtimedwait.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class SignalTests(string compiler)
{
    /// <summary>kill, tgkill, sigqueue and rt_sigqueueinfo siginfo; SIGSEGV (MAPERR/ACCERR with si_addr), SIGFPE, SIGILL handlers that siglongjmp out.</summary>
    [Test]
    public void SiginfoAndFaults() => ProcessPrograms.AssertSameAsNative(SiginfoSource, compiler);

    /// <summary>sigaltstack with SA_ONSTACK, a blocked signal delivered on unblock, real-time queueing order, SA_RESETHAND, SA_NODEFER, SIG_IGN discarding.</summary>
    [Test]
    public void MasksAltStackAndQueueing() => ProcessPrograms.AssertSameAsNative(MasksSource, compiler);

    /// <summary>SIGTERM to a child (WIFSIGNALED/WTERMSIG), SIGSTOP/SIGCONT with WUNTRACED/WCONTINUED, the SIGCHLD handler siginfo, SIGPIPE, SIGCHLD ignored.</summary>
    [Test]
    public void ChildSignals() => ProcessPrograms.AssertSameAsNative(ChildSource, compiler);

    /// <summary>alarm, periodic ITIMER_REAL, SA_RESTART versus EINTR on a pipe read, nanosleep EINTR, sigsuspend, sigtimedwait and sigwaitinfo.</summary>
    [Test]
    public void TimersAndWaiting() => ProcessPrograms.AssertSameAsNative(WaitingSource, compiler);

    private const string SiginfoSource = """
        static volatile sig_atomic_t got;
        static siginfo_t last;
        static void on_info(int sig, siginfo_t *si, void *uc) { (void)uc; got = sig; last = *si; }

        static sigjmp_buf jump;
        static volatile void *fault_addr;
        static volatile int fault_code, fault_sig;
        static void on_fault(int sig, siginfo_t *si, void *uc)
        {
            (void)uc;
            fault_sig = sig; fault_code = si->si_code; fault_addr = si->si_addr;
            siglongjmp(jump, 1);
        }

        int main(void)
        {
            struct sigaction sa = { 0 };
            sa.sa_sigaction = on_info;
            sa.sa_flags = SA_SIGINFO;
            sigemptyset(&sa.sa_mask);
            MUST(sigaction(SIGUSR1, &sa, NULL));
            MUST(sigaction(SIGRTMIN + 1, &sa, NULL));

            got = 0;
            MUST(kill(getpid(), SIGUSR1));
            SAY("kill: got %d signo %d code %d (SI_USER %d) pid is mine %d uid is mine %d\n",
                got, last.si_signo, last.si_code, SI_USER, last.si_pid == getpid(), last.si_uid == getuid());

            got = 0;
            MUST(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1));
            SAY("tgkill: got %d code %d (SI_TKILL %d) pid is mine %d\n", got, last.si_code, SI_TKILL, last.si_pid == getpid());

            got = 0;
            union sigval v = { .sival_int = 4242 };
            MUST(sigqueue(getpid(), SIGRTMIN + 1, v));
            SAY("sigqueue: got rt+%d code %d (SI_QUEUE %d) value %d pid is mine %d\n",
                got - SIGRTMIN, last.si_code, SI_QUEUE, last.si_value.sival_int, last.si_pid == getpid());

            /* rt_sigqueueinfo with our own siginfo: the handler sees what we wrote. */
            siginfo_t mine;
            memset(&mine, 0, sizeof mine);
            mine.si_signo = SIGUSR1;
            mine.si_code = SI_QUEUE;
            mine.si_pid = getpid();
            mine.si_uid = getuid();
            mine.si_value.sival_ptr = (void *)0x1234567;
            got = 0;
            MUST(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &mine));
            SAY("rt_sigqueueinfo: got %d code %d ptr %p\n", got, last.si_code, last.si_value.sival_ptr);
            mine.si_code = SI_KERNEL;
            got = 0;
            errno = 0;
            pid_t child = fork();
            if (child == 0) {
                /* Forging a kernel code for another process is refused. */
                long r = syscall(SYS_rt_sigqueueinfo, getppid(), SIGUSR1, &mine);
                SAY("forged SI_KERNEL to another process: %ld errno %s\n", r, errno == EPERM ? "EPERM" : strerror(errno));
                _exit(0);
            }
            int status;
            MUST(waitpid(child, &status, 0));
            SAY("parent got a signal from the refused queue: %d\n", got != 0);

            /* Faults: SIGSEGV for unmapped and read-only memory, SIGFPE, SIGILL; the handler siglongjmps out. */
            struct sigaction fa = { 0 };
            fa.sa_sigaction = on_fault;
            fa.sa_flags = SA_SIGINFO | SA_NODEFER;
            sigemptyset(&fa.sa_mask);
            MUST(sigaction(SIGSEGV, &fa, NULL));
            MUST(sigaction(SIGFPE, &fa, NULL));
            MUST(sigaction(SIGILL, &fa, NULL));
            MUST(sigaction(SIGBUS, &fa, NULL));

            volatile int *unmapped = (volatile int *)0x10000;
            if (sigsetjmp(jump, 1) == 0) { *unmapped = 1; SAY("no fault?\n"); }
            SAY("unmapped write: sig %d code %d (SEGV_MAPERR %d) addr ok %d\n", fault_sig, fault_code, SEGV_MAPERR, fault_addr == (void *)unmapped);

            char *ro = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (ro == MAP_FAILED) DIE("mmap");
            if (sigsetjmp(jump, 1) == 0) { ro[4100] = 1; SAY("no fault?\n"); }
            SAY("read-only write: sig %d code %d (SEGV_ACCERR %d) addr ok %d\n", fault_sig, fault_code, SEGV_ACCERR, fault_addr == (void *)(ro + 4100));

            char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (sigsetjmp(jump, 1) == 0) { SAY("read %d\n", *(volatile char *)(none + 7)); }
            SAY("PROT_NONE read: sig %d code %d addr ok %d\n", fault_sig, fault_code, fault_addr == (void *)(none + 7));

            volatile int zero = 0, ten = 10;
            if (sigsetjmp(jump, 1) == 0) { SAY("div %d\n", ten / zero); }
            SAY("divide by zero: sig %d code %d (FPE_INTDIV %d)\n", fault_sig, fault_code, FPE_INTDIV);

            if (sigsetjmp(jump, 1) == 0) { __asm__ volatile("ud2"); }
            SAY("ud2: sig %d code %d (ILL_ILLOPN %d)\n", fault_sig, fault_code, ILL_ILLOPN);

            /* Still usable after all those jumps: the mask was restored by siglongjmp. */
            sigset_t cur;
            sigprocmask(SIG_BLOCK, NULL, &cur);
            SAY("SIGSEGV blocked after siglongjmp: %d\n", sigismember(&cur, SIGSEGV));
            return 0;
        }
        """;

    private const string MasksSource = """
        static char *alt;
        static size_t altsize = 65536;
        static volatile int on_alt, ss_onstack, handled;
        static volatile int order[16], norder;

        static void on_usr1(int sig)
        {
            int local;
            char *p = (char *)&local;
            on_alt = p >= alt && p < alt + altsize;
            stack_t cur;
            sigaltstack(NULL, &cur);
            ss_onstack = (cur.ss_flags & SS_ONSTACK) != 0;
            handled++;
            (void)sig;
        }

        static void record(int sig, siginfo_t *si, void *uc) { (void)uc; order[norder++] = sig * 1000 + si->si_value.sival_int; }
        static void plain(int sig) { handled++; (void)sig; }

        static volatile int depth, maxdepth, calls;
        static void nested(int sig)
        {
            depth++;
            calls++;
            if (depth > maxdepth) maxdepth = depth;
            if (calls < 3) raise(sig);
            depth--;
        }

        int main(void)
        {
            /* sigaltstack + SA_ONSTACK: the handler's frame lies inside the alternate stack. */
            alt = malloc(altsize);
            stack_t ss = { .ss_sp = alt, .ss_size = altsize, .ss_flags = 0 }, old;
            MUST(sigaltstack(&ss, &old));
            SAY("old altstack disabled: %d\n", (old.ss_flags & SS_DISABLE) != 0);
            struct sigaction sa = { 0 };
            sa.sa_handler = on_usr1;
            sa.sa_flags = SA_ONSTACK;
            sigemptyset(&sa.sa_mask);
            MUST(sigaction(SIGUSR1, &sa, NULL));
            raise(SIGUSR1);
            SAY("SA_ONSTACK: handled %d on alt stack %d SS_ONSTACK inside %d\n", handled, on_alt, ss_onstack);
            stack_t now;
            sigaltstack(NULL, &now);
            SAY("after: flags %d sp ok %d size ok %d\n", now.ss_flags, now.ss_sp == alt, now.ss_size == altsize);
            sa.sa_flags = 0;
            MUST(sigaction(SIGUSR1, &sa, NULL));
            raise(SIGUSR1);
            SAY("without SA_ONSTACK: on alt stack %d\n", on_alt);
            stack_t tiny = { .ss_sp = alt, .ss_size = 100, .ss_flags = 0 };
            errno = 0;
            int small = sigaltstack(&tiny, NULL);
            SAY("too small: %d %s\n", small, errno == ENOMEM ? "ENOMEM" : "?");
            stack_t off = { .ss_flags = SS_DISABLE };
            MUST(sigaltstack(&off, NULL));

            /* A blocked signal stays pending and is delivered when unblocked. */
            handled = 0;
            sa.sa_handler = plain;
            MUST(sigaction(SIGUSR2, &sa, NULL));
            sigset_t set, pend;
            sigemptyset(&set);
            sigaddset(&set, SIGUSR2);
            MUST(sigprocmask(SIG_BLOCK, &set, NULL));
            raise(SIGUSR2);
            raise(SIGUSR2);
            sigpending(&pend);
            SAY("blocked: handled %d pending %d\n", handled, sigismember(&pend, SIGUSR2));
            MUST(sigprocmask(SIG_UNBLOCK, &set, NULL));
            sigpending(&pend);
            SAY("unblocked: handled %d (standard signals do not queue) pending %d\n", handled, sigismember(&pend, SIGUSR2));

            /* Real-time signals queue, lowest number first, in order within one signal. */
            struct sigaction ra = { 0 };
            ra.sa_sigaction = record;
            ra.sa_flags = SA_SIGINFO;
            sigemptyset(&ra.sa_mask);
            sigfillset(&ra.sa_mask);
            MUST(sigaction(SIGRTMIN + 3, &ra, NULL));
            MUST(sigaction(SIGRTMIN + 1, &ra, NULL));
            sigemptyset(&set);
            sigaddset(&set, SIGRTMIN + 3);
            sigaddset(&set, SIGRTMIN + 1);
            MUST(sigprocmask(SIG_BLOCK, &set, NULL));
            for (int i = 1; i <= 3; i++) {
                sigqueue(getpid(), SIGRTMIN + 3, (union sigval){ .sival_int = i });
                sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = 10 + i });
            }
            MUST(sigprocmask(SIG_UNBLOCK, &set, NULL));
            SAY("rt order:");
            for (int i = 0; i < norder; i++) SAY(" rt+%d/%d", order[i] / 1000 - SIGRTMIN, order[i] % 1000);
            SAY("\n");

            /* SA_RESETHAND: the second delivery takes the default action (ignored for SIGCHLD-like? use SIGURG: default ignore). */
            handled = 0;
            sa.sa_handler = plain;
            sa.sa_flags = SA_RESETHAND;
            MUST(sigaction(SIGURG, &sa, NULL));
            raise(SIGURG);
            struct sigaction q;
            sigaction(SIGURG, NULL, &q);
            SAY("SA_RESETHAND: handled %d, now default %d\n", handled, q.sa_handler == SIG_DFL);

            /* SA_NODEFER lets the handler be re-entered; without it the signal waits until the handler returns. */
            sa.sa_handler = nested;
            sa.sa_flags = SA_NODEFER;
            MUST(sigaction(SIGUSR1, &sa, NULL));
            depth = maxdepth = calls = 0;
            raise(SIGUSR1);
            SAY("SA_NODEFER: max depth %d\n", maxdepth);
            sa.sa_flags = 0;
            MUST(sigaction(SIGUSR1, &sa, NULL));
            depth = maxdepth = calls = 0;
            raise(SIGUSR1);
            SAY("default: max depth %d calls %d\n", maxdepth, calls);

            /* sa_mask is added while the handler runs and restored afterwards. */
            sigprocmask(SIG_BLOCK, NULL, &set);
            SAY("mask restored: usr1 %d usr2 %d\n", sigismember(&set, SIGUSR1), sigismember(&set, SIGUSR2));

            /* Ignored signals are discarded, even when pending. */
            MUST(sigprocmask(SIG_BLOCK, &(sigset_t){ 0 }, NULL));
            sigemptyset(&set);
            sigaddset(&set, SIGUSR2);
            MUST(sigprocmask(SIG_BLOCK, &set, NULL));
            raise(SIGUSR2);
            signal(SIGUSR2, SIG_IGN);
            sigpending(&pend);
            SAY("pending after SIG_IGN: %d\n", sigismember(&pend, SIGUSR2));

            /* sigaction refuses SIGKILL and SIGSTOP. */
            errno = 0;
            int k = sigaction(SIGKILL, &sa, NULL);
            SAY("sigaction(SIGKILL): %d %s\n", k, errno == EINVAL ? "EINVAL" : "?");
            return 0;
        }
        """;

    private const string ChildSource = """
        static volatile sig_atomic_t chld_count, chld_code, chld_status, chld_pid_ok;
        static pid_t expected;
        static void on_chld(int sig, siginfo_t *si, void *uc)
        {
            (void)sig; (void)uc;
            chld_count++;
            chld_code = si->si_code;
            chld_status = si->si_status;
            chld_pid_ok = si->si_pid == expected;
        }

        int main(void)
        {
            int status;
            /* SIGTERM to a child blocked in pause(): WIFSIGNALED, WTERMSIG. */
            int ready[2];
            MUST(pipe(ready));
            pid_t c = fork();
            if (c == 0) { close(ready[0]); write(ready[1], "r", 1); for (;;) pause(); }
            char b;
            close(ready[1]);
            MUST(read(ready[0], &b, 1));
            close(ready[0]);
            MUST(kill(c, SIGTERM));
            pid_t w = waitpid(c, &status, 0);
            SAY("waitpid returned the child: %d\n", w == c);
            describe_status("SIGTERM child", status);
            SAY("WIFSIGNALED %d WTERMSIG %d\n", WIFSIGNALED(status), WTERMSIG(status));

            /* A child that handles SIGTERM and exits with a code of its choice. */
            MUST(pipe(ready));
            c = fork();
            if (c == 0) {
                signal(SIGTERM, (void (*)(int))_exit);
                close(ready[0]); write(ready[1], "r", 1);
                for (;;) pause();
            }
            close(ready[1]);
            MUST(read(ready[0], &b, 1));
            close(ready[0]);
            MUST(kill(c, SIGTERM));
            MUST(waitpid(c, &status, 0));
            describe_status("handling child", status);

            /* SIGSTOP / SIGCONT seen through WUNTRACED and WCONTINUED. */
            MUST(pipe(ready));
            c = fork();
            if (c == 0) { close(ready[0]); write(ready[1], "r", 1); for (;;) pause(); }
            close(ready[1]);
            MUST(read(ready[0], &b, 1));
            MUST(kill(c, SIGSTOP));
            MUST(waitpid(c, &status, WUNTRACED));
            describe_status("after SIGSTOP", status);
            SAY("WNOHANG while stopped (already reported): %d\n", waitpid(c, &status, WNOHANG | WUNTRACED));
            MUST(kill(c, SIGCONT));
            MUST(waitpid(c, &status, WCONTINUED));
            describe_status("after SIGCONT", status);
            MUST(kill(c, SIGKILL));
            MUST(waitpid(c, &status, 0));
            describe_status("after SIGKILL", status);
            close(ready[0]);

            /* A stopped child's SIGTERM waits until SIGCONT (SIGKILL would not). */
            MUST(pipe(ready));
            c = fork();
            if (c == 0) { close(ready[0]); write(ready[1], "r", 1); for (;;) pause(); }
            close(ready[1]);
            MUST(read(ready[0], &b, 1));
            close(ready[0]);
            MUST(kill(c, SIGSTOP));
            MUST(waitpid(c, &status, WUNTRACED));
            MUST(kill(c, SIGTERM));
            sleep_ms(50);
            SAY("still there while stopped: %d\n", waitpid(c, &status, WNOHANG));
            MUST(kill(c, SIGCONT));
            MUST(waitpid(c, &status, 0));
            describe_status("stopped then SIGTERM+SIGCONT", status);

            /* SIGCHLD handler: si_code CLD_EXITED, si_status, si_pid. */
            struct sigaction sa = { 0 };
            sa.sa_sigaction = on_chld;
            sa.sa_flags = SA_SIGINFO | SA_RESTART;
            sigemptyset(&sa.sa_mask);
            MUST(sigaction(SIGCHLD, &sa, NULL));
            sigset_t chld, old;
            sigemptyset(&chld);
            sigaddset(&chld, SIGCHLD);
            sigprocmask(SIG_BLOCK, &chld, &old);
            c = fork();
            if (c == 0) _exit(7);
            expected = c;
            sigsuspend(&old);
            SAY("SIGCHLD: count %d code %d (CLD_EXITED %d) status %d pid ok %d\n", chld_count, chld_code, CLD_EXITED, chld_status, chld_pid_ok);
            MUST(waitpid(c, &status, 0));
            describe_status("reaped", status);
            c = fork();
            if (c == 0) { raise(SIGKILL); _exit(1); }
            expected = c;
            chld_count = 0;
            sigsuspend(&old);
            SAY("SIGCHLD for a killed child: count %d code %d (CLD_KILLED %d) status %d\n", chld_count, chld_code, CLD_KILLED, chld_status);
            MUST(waitpid(c, &status, 0));
            sigprocmask(SIG_SETMASK, &old, NULL);

            /* SIGPIPE: writing to a pipe with no reader kills by default, EPIPE when ignored. */
            int p[2];
            MUST(pipe(p));
            close(p[0]);
            c = fork();
            if (c == 0) { signal(SIGPIPE, SIG_DFL); write(p[1], "x", 1); _exit(0); }
            MUST(waitpid(c, &status, 0));
            describe_status("writer to a broken pipe", status);
            signal(SIGPIPE, SIG_IGN);
            errno = 0;
            long r = write(p[1], "x", 1);
            SAY("ignored SIGPIPE: write %ld %s\n", r, errno == EPIPE ? "EPIPE" : strerror(errno));
            close(p[1]);

            /* SA_NOCLDWAIT / SIG_IGN for SIGCHLD: no zombies, wait gives ECHILD. */
            signal(SIGCHLD, SIG_IGN);
            c = fork();
            if (c == 0) _exit(3);
            errno = 0;
            w = waitpid(c, &status, 0);
            SAY("SIGCHLD ignored: waitpid %d %s\n", w, errno == ECHILD ? "ECHILD" : strerror(errno));
            signal(SIGCHLD, SIG_DFL);
            return 0;
        }
        """;

    private const string WaitingSource = """
        static volatile sig_atomic_t ticks, alarms, usr1;
        static void on_alarm(int sig) { (void)sig; alarms++; }
        static void on_tick(int sig) { (void)sig; ticks++; }
        static void on_usr1(int sig) { (void)sig; usr1++; }

        /* A child that sends SIGUSR1 to its parent after ms milliseconds, then writes a byte to fd. */
        static pid_t poke_later(int ms, int fd)
        {
            pid_t parent = getpid();
            pid_t c = fork();
            if (c == 0) {
                sleep_ms(ms);
                kill(parent, SIGUSR1);
                sleep_ms(ms);
                if (fd >= 0) write(fd, "d", 1);
                _exit(0);
            }
            return c;
        }

        int main(void)
        {
            int status;
            /* alarm + pause */
            signal(SIGALRM, on_alarm);
            SAY("alarm(1) first: %u\n", alarm(1));
            errno = 0;
            int r = pause();
            SAY("pause: %d %s alarms %d\n", r, errno == EINTR ? "EINTR" : "?", alarms);
            SAY("alarm(5) then alarm(0) returns remaining > 0: %d\n", (alarm(5), alarm(0) > 0));

            /* setitimer ITIMER_REAL, periodic */
            signal(SIGALRM, on_tick);
            struct itimerval it = { .it_interval = { 0, 20000 }, .it_value = { 0, 20000 } }, got;
            MUST(setitimer(ITIMER_REAL, &it, NULL));
            MUST(getitimer(ITIMER_REAL, &got));
            SAY("getitimer interval %ld.%06ld value set %d\n", (long)got.it_interval.tv_sec, (long)got.it_interval.tv_usec,
                got.it_value.tv_sec == 0 && got.it_value.tv_usec > 0 && got.it_value.tv_usec <= 20000);
            sigset_t none;
            sigemptyset(&none);
            long long start = now_ns(CLOCK_MONOTONIC);
            while (ticks < 5) sigsuspend(&none);
            long long took = now_ns(CLOCK_MONOTONIC) - start;
            struct itimerval zero = { 0 };
            MUST(setitimer(ITIMER_REAL, &zero, &got));
            SAY("5 ticks of 20 ms took at least 80 ms: %d; old interval %ld\n", took >= 80000000LL, (long)got.it_interval.tv_usec);
            MUST(getitimer(ITIMER_REAL, &got));
            SAY("disarmed: %ld %ld\n", (long)got.it_value.tv_sec, (long)got.it_value.tv_usec);

            /* SA_RESTART vs EINTR on a blocking pipe read */
            int p[2];
            char b;
            struct sigaction sa = { 0 };
            sa.sa_handler = on_usr1;
            sigemptyset(&sa.sa_mask);
            for (int restart = 0; restart <= 1; restart++) {
                sa.sa_flags = restart ? SA_RESTART : 0;
                MUST(sigaction(SIGUSR1, &sa, NULL));
                MUST(pipe(p));
                usr1 = 0;
                pid_t c = poke_later(100, p[1]);
                errno = 0;
                long n = read(p[0], &b, 1);
                SAY("%s: read %ld %s handler ran %d\n", restart ? "SA_RESTART" : "no SA_RESTART", n,
                    n < 0 ? (errno == EINTR ? "EINTR" : strerror(errno)) : "data", usr1);
                MUST(waitpid(c, &status, 0));
                close(p[0]);
                close(p[1]);
            }

            /* nanosleep is never restarted, SA_RESTART or not */
            pid_t c = poke_later(100, -1);
            struct timespec ts = { 5, 0 }, rem = { 0, 0 };
            errno = 0;
            r = nanosleep(&ts, &rem);
            SAY("nanosleep: %d %s remaining set %d\n", r, errno == EINTR ? "EINTR" : "?", rem.tv_sec > 0 && rem.tv_sec <= 5);
            MUST(waitpid(c, &status, 0));

            /* sigsuspend: wait with SIGUSR1 unblocked only there */
            sigset_t usr, old;
            sigemptyset(&usr);
            sigaddset(&usr, SIGUSR1);
            MUST(sigprocmask(SIG_BLOCK, &usr, &old));
            usr1 = 0;
            c = poke_later(20, -1);
            errno = 0;
            r = sigsuspend(&old);
            SAY("sigsuspend: %d %s handler ran %d\n", r, errno == EINTR ? "EINTR" : "?", usr1);
            sigset_t cur;
            sigprocmask(SIG_BLOCK, NULL, &cur);
            SAY("mask restored after sigsuspend: %d\n", sigismember(&cur, SIGUSR1));
            MUST(waitpid(c, &status, 0));

            /* sigtimedwait: a timeout, then a signal sent by a child, then one already pending */
            sigset_t waitset;
            sigemptyset(&waitset);
            sigaddset(&waitset, SIGUSR2);
            sigaddset(&waitset, SIGUSR1);
            MUST(sigprocmask(SIG_BLOCK, &waitset, NULL));
            struct timespec t50 = { 0, 50000000 };
            siginfo_t si;
            errno = 0;
            start = now_ns(CLOCK_MONOTONIC);
            r = sigtimedwait(&waitset, &si, &t50);
            took = now_ns(CLOCK_MONOTONIC) - start;
            SAY("sigtimedwait nothing: %d %s waited >= 50 ms %d\n", r, errno == EAGAIN ? "EAGAIN" : "?", took >= 50000000LL);
            usr1 = 0;
            c = poke_later(20, -1);
            struct timespec t5 = { 5, 0 };
            r = sigtimedwait(&waitset, &si, &t5);
            SAY("sigtimedwait: signal %d code %d (SI_USER) from child %d handler ran %d\n", r, si.si_code, si.si_pid == c, usr1);
            MUST(waitpid(c, &status, 0));
            raise(SIGUSR2);
            r = sigwaitinfo(&waitset, &si);
            SAY("sigwaitinfo pending: %d code %d (SI_TKILL %d)\n", r, si.si_code, SI_TKILL);
            sigqueue(getpid(), SIGUSR2, (union sigval){ .sival_int = 77 });
            r = sigtimedwait(&waitset, &si, &t5);
            SAY("sigtimedwait queued: %d value %d\n", r, si.si_value.sival_int);
            sigset_t pend;
            sigpending(&pend);
            SAY("nothing left pending: %d\n", sigismember(&pend, SIGUSR2) + sigismember(&pend, SIGUSR1));
            return 0;
        }
        """;
}
