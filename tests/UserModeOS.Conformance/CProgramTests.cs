using System.Text;
using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance;

/// <summary>Small static C programs built with glibc (gcc -static) and musl (musl-gcc -static).</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class CProgramTests(string compiler)
{
    private string Build(string source, string extraFlags = "") => CProgram.Compile(source, compiler, extraFlags);

    private const string HelloSource = """
        #include <stdio.h>
        #include <stddef.h>
        #include <limits.h>
        #include <stdint.h>
        int main(void) {
            printf("hello, world\n");
            printf("%d %i %u %ld %lld %hhd %hd\n", 42, -17, 4000000000u, LONG_MIN, LLONG_MAX, (char)200, (short)70000);
            printf("%x %X %#o %#x %08.3d|%-6d|%+d|% d\n", 0xdeadbeefu, 255u, 8u, 0u, 7, 5, 9, 3);
            printf("%zu %td %jd %p\n", sizeof(long double), (ptrdiff_t)-8, (intmax_t)INT64_MIN, (void*)0x1234);
            printf("%f %.3f %10.4f %-10.2f| %e %E %.0e\n", 3.14159265358979, -2.5, 1.0/3, 1e10, 6.02214076e23, 1.5e-300, 12345.0);
            printf("%g %g %g %g %G %.17g %.3g\n", 100000.0, 1000000.0, 1e-5, 0.0001, 1e-10, 0.1, 2.0/3);
            volatile double zero = 0.0, one = 1.0;
            printf("%f %f %f %e %g\n", one/zero, -one/zero, zero/zero, -zero, 5e-324 * one);
            printf("%a %La\n", 1.0, 3.0L);
            printf("%.20Lf %Lg\n", 1.0L/3, 1e4000L);
            double acc = 0; for (int i = 1; i <= 100000; i++) acc += 1.0 / ((double)i * i);
            printf("%.15f\n", acc);
            float f = 0; for (int i = 0; i < 1000; i++) f += 0.1f;
            printf("%.9g %s\n", f, "done");
            return 0;
        }
        """;

    [Test]
    public void HelloPrintf()
    {
        var r = Compare.AssertSameAsNative([Build(HelloSource)], compareStderr: true);
        Assert.That(r.StdoutText, Does.StartWith("hello, world\n"));
    }

    private const string FileSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        int main(int argc, char **argv) {
            const char *path = argc > 1 ? argv[1] : "input.txt";
            FILE *f = fopen(path, "r");
            if (!f) { perror(path); return 2; }
            char line[256]; int n = 0; unsigned long sum = 0; size_t longest = 0;
            while (fgets(line, sizeof line, f)) {
                n++; size_t len = strlen(line); if (len > longest) longest = len;
                for (size_t i = 0; i < len; i++) sum = sum * 31 + (unsigned char)line[i];
            }
            printf("lines=%d longest=%zu hash=%lu\n", n, longest, sum);
            if (fseek(f, 0, SEEK_END) != 0) return 3;
            long size = ftell(f);
            printf("size=%ld\n", size);
            fseek(f, size / 2, SEEK_SET);
            char buf[33] = {0}; size_t got = fread(buf, 1, 32, f);
            printf("middle(%zu)=[%s]\n", got, buf);
            rewind(f);
            int c, words = 0, inword = 0;
            while ((c = getc(f)) != EOF) { if (c == ' ' || c == '\n') inword = 0; else if (!inword) { inword = 1; words++; } }
            fclose(f);
            printf("words=%d\n", words);
            FILE *o = fopen("out.txt", "w+");
            if (!o) { perror("out.txt"); return 4; }
            for (int i = 0; i < 1000; i++) fprintf(o, "%d:%x\n", i, i * i);
            fflush(o); rewind(o);
            int a, b, count = 0; long total = 0;
            while (fscanf(o, "%d:%x", &a, &b) == 2) { count++; total += b; }
            fclose(o);
            printf("readback=%d total=%ld\n", count, total);
            FILE *m = fopen("does-not-exist", "r");
            if (!m) perror("does-not-exist");
            return 0;
        }
        """;

    [Test]
    public void ReadFileWithStdio()
    {
        using var dir = new TempDir("c-file");
        var text = new StringBuilder();
        for (var i = 0; i < 2000; i++)
        {
            text.Append("row ").Append(i).Append(' ').Append(new string((char)('a' + (i % 26)), i % 70)).Append('\n');
        }

        dir.Write("input.txt", text.ToString());
        var r = Compare.AssertSameAsNative([Build(FileSource)], workdir: dir.Path, compareStderr: true);
        Assert.That(r.StdoutText, Does.Contain("lines=2000"));
    }

    private const string MallocSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <stdint.h>
        static uint64_t rng = 88172645463325252ull;
        static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
        int main(void) {
            enum { N = 20000 };
            static char *p[N]; static size_t sz[N];
            uint64_t check = 0;
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < N; i++) {
                    size_t s = (next() % 512) + 1;
                    if (p[i]) free(p[i]);
                    p[i] = malloc(s); sz[i] = s;
                    if (!p[i]) { printf("malloc failed\n"); return 1; }
                    memset(p[i], (int)(i + round), s);
                }
                for (int i = 0; i < N; i += 3) { free(p[i]); p[i] = NULL; }
                for (int i = 1; i < N; i += 7) {
                    size_t s = sz[i] * 3;
                    char *q = realloc(p[i], s);
                    if (!q) { printf("realloc failed\n"); return 1; }
                    memset(q + sz[i], 0x5a, s - sz[i]); p[i] = q; sz[i] = s;
                }
                for (int i = 0; i < N; i++) if (p[i]) check += (unsigned char)p[i][sz[i] - 1] + sz[i];
            }
            for (int i = 0; i < N; i++) free(p[i]);
            /* Big blocks: mmap'd by malloc, grown by realloc (mremap). */
            char *big = NULL; size_t size = 0;
            for (size_t s = 1 << 16; s <= (64u << 20); s <<= 1) {
                char *q = realloc(big, s);
                if (!q) { printf("big realloc failed at %zu\n", s); return 1; }
                for (size_t i = size; i < s; i += 4096) q[i] = (char)(i >> 12);
                big = q; size = s;
            }
            uint64_t bigsum = 0;
            for (size_t i = 0; i < size; i += 4096) bigsum += (unsigned char)big[i];
            big = realloc(big, 1 << 20);
            bigsum += (unsigned char)big[(1 << 20) - 4096];
            free(big);
            int *z = calloc(1 << 20, sizeof(int)); uint64_t zs = 0;
            for (int i = 0; i < (1 << 20); i += 1024) zs += (unsigned)z[i];
            free(z);
            void *a[64];
            for (int i = 0; i < 64; i++) { a[i] = malloc((size_t)(i + 1) * 100000); memset(a[i], i, 100); }
            for (int i = 0; i < 64; i += 2) free(a[i]);
            for (int i = 1; i < 64; i += 2) { check += ((unsigned char *)a[i])[99]; free(a[i]); }
            printf("check=%llu bigsum=%llu zeros=%llu\n", (unsigned long long)check, (unsigned long long)bigsum, (unsigned long long)zs);
            return 0;
        }
        """;

    [Test]
    public void MallocHeavy()
    {
        var r = Compare.AssertSameAsNative([Build(MallocSource)], compareStderr: true);
        Assert.That(r.StdoutText, Does.StartWith("check="));
    }

    private const string ArgvSource = """
        #include <stdio.h>
        #include <stdlib.h>
        extern char **environ;
        int main(int argc, char **argv, char **envp) {
            printf("argc=%d\n", argc);
            for (int i = 1; i < argc; i++) printf("argv[%d]=[%s]\n", i, argv[i]);
            printf("argv[argc]=%s\n", argv[argc] == NULL ? "NULL" : "not null");
            int n = 0;
            for (char **e = envp; *e; e++) printf("env[%d]=[%s]\n", n++, *e);
            printf("environ same: %d\n", environ == envp);
            const char *home = getenv("HOME"); printf("HOME=%s\n", home ? home : "(unset)");
            const char *nope = getenv("NOPE"); printf("NOPE=%s\n", nope ? nope : "(unset)");
            return argc;
        }
        """;

    [Test]
    public void ArgvAndEnvp()
    {
        var exe = Build(ArgvSource);
        var r = Compare.AssertSameAsNative(
            [exe, "one", "two words", "", "-n", "--flag=x", "ünïcødé", "tab\there"],
            env: ["PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=/root", "EMPTY=", "WITH_EQUALS=a=b=c", "LONG=" + new string('z', 3000)],
            compareStderr: true);
        Assert.That(r.ExitCode, Is.EqualTo(8));
        Assert.That(r.StdoutText, Does.Contain("argv[2]=[two words]"));
    }

    [Test]
    public void EmptyEnvironment() => Compare.AssertSameAsNative([Build(ArgvSource)], env: [], compareStderr: true);

    private const string ExitSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <signal.h>
        static void bye(void) { printf("atexit handler ran\n"); }
        int main(int argc, char **argv) {
            atexit(bye);
            const char *how = argc > 1 ? argv[1] : "return";
            int code = argc > 2 ? atoi(argv[2]) : 0;
            printf("how=%s code=%d\n", how, code);
            fprintf(stderr, "to stderr\n");
            if (!strcmp(how, "exit")) exit(code);
            if (!strcmp(how, "_exit")) { fflush(stdout); _exit(code); }
            if (!strcmp(how, "abort")) { fflush(stdout); abort(); }
            if (!strcmp(how, "segv")) { fflush(stdout); *(volatile int *)(uintptr_t)0x10 = 1; }
            if (!strcmp(how, "raise")) { fflush(stdout); raise(atoi(argv[2])); }
            return code;
        }
        """;

    [TestCase("return", "0")]
    [TestCase("return", "7")]
    [TestCase("exit", "3")]
    [TestCase("exit", "255")]
    [TestCase("exit", "256")]
    [TestCase("exit", "-1")]
    [TestCase("_exit", "99")]
    [TestCase("abort", "0")]
    [TestCase("segv", "0")]
    [TestCase("raise", "15")]
    public void ExitCodes(string how, string code) =>
        Compare.AssertSameAsNative([Build("#include <stdint.h>\n" + ExitSource), how, code], compareStderr: true);

    private const string LibcSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <math.h>
        #include <setjmp.h>
        #include <ctype.h>
        static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
        static __thread int tls_counter = 5;
        static jmp_buf jb;
        static void jump(int v) { longjmp(jb, v); }
        int main(void) {
            double v[1000]; unsigned s = 12345;
            for (int i = 0; i < 1000; i++) { s = s * 1103515245 + 12345; v[i] = (double)(s >> 8) / 1e5 - 50; }
            qsort(v, 1000, sizeof v[0], cmp);
            printf("min=%.6f max=%.6f med=%.6f\n", v[0], v[999], v[500]);
            printf("%.15g %.15g %.15g %.15g\n", sin(0.5), cos(2.0), tan(1.0), atan(3.0));
            printf("%.15g %.15g %.15g %.15g\n", exp(2.5), log(123.0), log10(5e7), pow(1.5, 40.5));
            printf("%.15g %.15g %.15g %.15g\n", sqrt(2.0), cbrt(27.5), hypot(3, 4.5), fmod(10.5, 3.2));
            printf("%.15g %.15g %.15g %ld %ld\n", floor(-2.5), ceil(-2.5), round(2.5), lrint(2.5), lround(-2.5));
            printf("%.9g %.9g\n", sinf(1.0f), expf(3.0f));
            char *end; printf("%.17g %.17g %ld %lu\n", strtod("1e-310", &end), strtod("0x1.8p3", &end), strtol("-0x7f", &end, 16), strtoul("18446744073709551615", &end, 10));
            char buf[200]; int n = snprintf(buf, sizeof buf, "%s-%08.3f-%-5d|", "abc", 3.14159, 42);
            printf("%d [%s]\n", n, buf);
            char big[5000]; memset(big, 'q', sizeof big - 1); big[sizeof big - 1] = 0;
            char copy[5000]; memcpy(copy, big, sizeof big); memmove(copy + 1, copy, 3000);
            printf("%zu %d %s %d\n", strlen(copy), memcmp(big, copy, 5000), strstr("haystack needle hay", "needle"), (int)(strchr(big, 0) - big));
            for (char *p = buf; *p; p++) *p = (char)toupper((unsigned char)*p);
            printf("%s\n", buf);
            int r = setjmp(jb);
            if (r == 0) jump(17); else printf("longjmp -> %d\n", r);
            tls_counter += 10; printf("tls=%d\n", tls_counter);
            long double ld = 1; for (int i = 1; i <= 25; i++) ld *= i; printf("%.0Lf\n", ld);
            unsigned __int128 w = (unsigned __int128)0xFFFFFFFFFFFFFFFFull * 0xFFFFFFFFFFFFFFFFull;
            printf("%llx %llx\n", (unsigned long long)(w >> 64), (unsigned long long)w);
            return 0;
        }
        """;

    [Test]
    public void LibcMathStringsTls() => Compare.AssertSameAsNative([Build(LibcSource)], compareStderr: true);

    private const string StdinSource = """
        #include <stdio.h>
        #include <ctype.h>
        int main(void) {
            long chars = 0, lines = 0, upper = 0; int c;
            while ((c = getchar()) != EOF) { chars++; if (c == '\n') lines++; if (isupper(c)) upper++; putchar(toupper(c)); }
            fprintf(stderr, "chars=%ld lines=%ld upper=%ld\n", chars, lines, upper);
            return 0;
        }
        """;

    [Test]
    public void StdinToStdout()
    {
        var input = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 3000).Select(i => $"Line {i} of Input\n")));
        Compare.AssertSameAsNative([Build(StdinSource)], stdin: input, compareStderr: true);
    }

    private const string ThreadsSource = """
        #include <stdio.h>
        #include <pthread.h>
        static long counts[4];
        static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        static long shared;
        static void *work(void *arg) {
            long id = (long)arg;
            for (int i = 0; i < 20000; i++) { counts[id] += i % 7; pthread_mutex_lock(&mu); shared++; pthread_mutex_unlock(&mu); }
            return (void *)(id * 10);
        }
        int main(void) {
            pthread_t t[4];
            for (long i = 0; i < 4; i++) if (pthread_create(&t[i], NULL, work, (void *)i)) { printf("create failed\n"); return 1; }
            long sum = 0;
            for (int i = 0; i < 4; i++) { void *r; pthread_join(t[i], &r); sum += (long)r; }
            printf("shared=%ld sum=%ld c0=%ld c3=%ld\n", shared, sum, counts[0], counts[3]);
            return 0;
        }
        """;

    [Test]
    public void Pthreads() => Compare.AssertSameAsNative([Build(ThreadsSource, "-pthread")], compareStderr: true);
}
