using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.Processes;

/// <summary>
/// What the process, thread and signal conformance programs share: a C prelude (includes,
/// unbuffered stdout so output written before fork is not duplicated, a DIE macro) and the
/// native-versus-umos comparison. The programs print only facts that hold on any run
/// (never pids or times), so both sides must print the same bytes.
/// </summary>
internal static class ProcessPrograms
{
    public const string Prelude = """
        #define _GNU_SOURCE
        #include <errno.h>
        #include <fcntl.h>
        #include <limits.h>
        #include <poll.h>
        #include <pthread.h>
        #include <sched.h>
        #include <setjmp.h>
        #include <signal.h>
        #include <stdint.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <time.h>
        #include <unistd.h>
        #include <sys/mman.h>
        #include <sys/prctl.h>
        #include <sys/resource.h>
        #include <sys/select.h>
        #include <sys/stat.h>
        #include <sys/syscall.h>
        #include <sys/time.h>
        #include <sys/times.h>
        #include <sys/types.h>
        #include <sys/wait.h>

        #define FUTEX_WAIT 0
        #define FUTEX_WAKE 1
        #define FUTEX_REQUEUE 3
        #define FUTEX_CMP_REQUEUE 4
        #define FUTEX_WAKE_OP 5
        #define FUTEX_WAIT_BITSET 9
        #define FUTEX_WAKE_BITSET 10
        #define FUTEX_PRIVATE_FLAG 128
        #define FUTEX_CLOCK_REALTIME 256
        #define FUTEX_BITSET_MATCH_ANY 0xffffffff
        #define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
        #define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
        #define FUTEX_REQUEUE_PRIVATE (FUTEX_REQUEUE | FUTEX_PRIVATE_FLAG)
        #define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)
        #define FUTEX_WAKE_OP_PRIVATE (FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG)

        #define DIE(...) do { printf("FAIL line %d: ", __LINE__); printf(__VA_ARGS__); printf(" (errno %d)\n", errno); exit(99); } while (0)
        #define MUST(expr) do { if ((long)(expr) < 0) DIE("%s", #expr); } while (0)
        #define SAY(...) printf(__VA_ARGS__)

        /* Unbuffered stdout (nothing is duplicated by fork); only stdio open, whatever the parent leaked (unless KEEP_FDS is set). */
        __attribute__((constructor)) static void prelude_setup(void)
        {
            setvbuf(stdout, NULL, _IONBF, 0);
            if (!getenv("KEEP_FDS"))
                for (int fd = 3; fd < 1024; fd++) close(fd);
        }

        static long long now_ns(clockid_t clock)
        {
            struct timespec ts;
            clock_gettime(clock, &ts);
            return ts.tv_sec * 1000000000LL + ts.tv_nsec;
        }

        static void sleep_ms(int ms)
        {
            struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR) { }
        }

        static void describe_status(const char *what, int status)
        {
            if (WIFEXITED(status)) printf("%s: exited %d\n", what, WEXITSTATUS(status));
            else if (WIFSIGNALED(status)) printf("%s: killed by signal %d%s\n", what, WTERMSIG(status), WCOREDUMP(status) ? " (core)" : "");
            else if (WIFSTOPPED(status)) printf("%s: stopped by signal %d\n", what, WSTOPSIG(status));
            else if (WIFCONTINUED(status)) printf("%s: continued\n", what);
            else printf("%s: status %#x\n", what, status);
        }
        """;

    /// <summary>Builds <paramref name="source"/> (after the prelude) and asserts umos behaves as the host kernel.</summary>
    public static RunResult AssertSameAsNative(string source, string compiler, string[]? argv = null, byte[]? stdin = null) =>
        Compare.AssertSameAsNative([Compile(source, compiler), .. argv ?? []], stdin, compareStderr: true);

    /// <summary>The static executable for <paramref name="source"/> after the prelude.</summary>
    public static string Compile(string source, string compiler) =>
        CProgram.Compile(Prelude + "\n" + source, compiler, "-pthread");
}
