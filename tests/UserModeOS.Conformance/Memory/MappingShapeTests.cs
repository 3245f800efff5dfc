using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.Memory;

/// <summary>
/// How mappings behave at their edges: SIGBUS past the end of a mapped file, MAP_GROWSDOWN
/// areas growing on a fault just below them, and mprotect splitting and re-merging areas.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class MappingShapeTests(string compiler)
{
    private const string Source = """
        #include <fcntl.h>
        #include <setjmp.h>
        #include <signal.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/mman.h>
        #include <unistd.h>
        static sigjmp_buf env;
        static void on_signal(int sig, siginfo_t *si, void *uc) { siglongjmp(env, sig * 100 + si->si_code); }
        static int areas(unsigned long lo, unsigned long hi)
        {
            FILE *f = fopen("/proc/self/maps", "r");
            char line[512];
            int n = 0;
            while (fgets(line, sizeof line, f))
            {
                unsigned long a, b;
                if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < hi && b > lo) n++;
            }
            fclose(f);
            return n;
        }
        int main(void)
        {
            struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
            sigaction(SIGBUS, &sa, 0);
            sigaction(SIGSEGV, &sa, 0);

            int fd = open("small", O_CREAT | O_RDWR | O_TRUNC, 0644);
            write(fd, "abc", 3);
            char *p = mmap(0, 3 * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
            int r = sigsetjmp(env, 1);
            if (r == 0) printf("first page: %c, tail zero: %d\n", p[0], p[100]);
            if (r == 0) { volatile char c = p[4096 + 5]; (void)c; puts("no fault past EOF"); }
            else printf("past EOF: signal %d code %d\n", r / 100, r % 100);

            long page = 4096;
            char *g = mmap(0, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
            r = sigsetjmp(env, 1);
            if (r == 0) { g[-1] = 7; printf("grew down: %d\n", g[-1]); }
            else printf("grows-down fault: signal %d\n", r / 100);

            char *m = mmap(0, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            unsigned long lo = (unsigned long)m, hi = lo + 4 * page;
            printf("areas: %d", areas(lo, hi));
            mprotect(m + page, page, PROT_READ);
            printf(" -> %d", areas(lo, hi));
            mprotect(m + page, page, PROT_READ | PROT_WRITE);
            printf(" -> %d\n", areas(lo, hi));
            return 0;
        }
        """;

    [Test]
    public void EdgesOfMappings()
    {
        using var dir = new TempDir("mapshape");
        Compare.AssertSameAsNative([CProgram.Compile(Source, compiler)], workdir: dir.Path);
    }
}
