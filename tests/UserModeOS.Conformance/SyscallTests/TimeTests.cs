namespace UserModeOS.Conformance.SyscallTests;

/// <summary>clock_gettime(2), clock_getres(2), gettimeofday(2), time(2), nanosleep(2), clock_nanosleep(2) and times(2).</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class TimeTests(string compiler)
{
    [Test]
    public void ClocksAndSleeps() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        #define CPUCLOCK(pid, type) ((int)(((unsigned)~(pid) << 3) | (type)))

        static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

        int main(void)
        {
            struct timespec a, b, r;
            static const int clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
                CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, 11 };
            for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
                int c = clocks[i];
                long e1 = syscall(SYS_clock_gettime, c, &a);
                long e2 = syscall(SYS_clock_gettime, c, &b);
                SAY("clock %d: %ld %ld nsec-valid %d non-decreasing %d\n", c, e1, e2,
                    a.tv_nsec >= 0 && a.tv_nsec < 1000000000, ns(b) >= ns(a));
            }
            CHECK(syscall(SYS_clock_gettime, 10, &a));
            CHECK(syscall(SYS_clock_gettime, 12, &a));
            CHECK(syscall(SYS_clock_gettime, 100, &a));
            CHECK(syscall(SYS_clock_gettime, CLOCK_REALTIME, WILD));
            CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, NULL));
            /* CPU clocks of this process and thread by id (clock_getcpuclockid/pthread_getcpuclockid encoding) */
            CHECK(syscall(SYS_clock_gettime, CPUCLOCK(0, 2), &a));
            CHECK(syscall(SYS_clock_gettime, CPUCLOCK(getpid(), 2), &a));
            CHECK(syscall(SYS_clock_gettime, CPUCLOCK((int)syscall(SYS_gettid), 6), &a));
            CHECK(syscall(SYS_clock_gettime, CPUCLOCK(0x3fffffff, 2), &a));
            CHECK(syscall(SYS_clock_gettime, CPUCLOCK(0, 3), &a));

            for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
                r.tv_sec = 99;
                long e = syscall(SYS_clock_getres, clocks[i], &r);
                SAY("res %d: %ld %ld %s\n", clocks[i], e, (long)r.tv_sec,
                    r.tv_nsec == 1 ? "1ns" : r.tv_nsec >= 1000000 ? "coarse" : "other");
            }
            CHECK(syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
            CHECK(syscall(SYS_clock_getres, 10, &r));
            CHECK(syscall(SYS_clock_getres, CLOCK_MONOTONIC, WILD));

            /* realtime agrees with gettimeofday and time */
            struct timeval tv;
            struct { int minuteswest, dsttime; } tz = { 77, 77 };
            syscall(SYS_clock_gettime, CLOCK_REALTIME, &a);
            CHECK(syscall(SYS_gettimeofday, &tv, &tz));
            SAY("tz %d %d usec-valid %d close %d\n", tz.minuteswest, tz.dsttime, tv.tv_usec >= 0 && tv.tv_usec < 1000000,
                tv.tv_sec - a.tv_sec <= 1 && tv.tv_sec >= a.tv_sec);
            CHECK(syscall(SYS_gettimeofday, NULL, NULL));
            CHECK(syscall(SYS_gettimeofday, &tv, NULL));
            CHECK(syscall(SYS_gettimeofday, WILD, NULL));
            CHECK(syscall(SYS_gettimeofday, &tv, WILD));
            time_t t1 = 0;
            long t0 = syscall(SYS_time, NULL);
            long t2 = syscall(SYS_time, &t1);
            SAY("time consistent %d %d\n", t2 >= t0 && t2 - t0 <= 1, t1 == t2);
            CHECK(syscall(SYS_time, WILD));

            /* sleeping */
            struct timespec req = { 0, 20 * 1000000 }, rem = { 55, 55 };
            syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a);
            CHECK(syscall(SYS_nanosleep, &req, &rem));
            syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
            SAY("slept >= 20ms: %d rem untouched %ld %ld\n", ns(b) - ns(a) >= 20000000, (long)rem.tv_sec, rem.tv_nsec);
            CHECK(syscall(SYS_nanosleep, &req, NULL));
            req.tv_nsec = 1000000000;
            CHECK(syscall(SYS_nanosleep, &req, NULL));
            req.tv_nsec = -1;
            CHECK(syscall(SYS_nanosleep, &req, NULL));
            req.tv_sec = -1; req.tv_nsec = 0;
            CHECK(syscall(SYS_nanosleep, &req, NULL));
            CHECK(syscall(SYS_nanosleep, WILD, NULL));
            req.tv_sec = 0; req.tv_nsec = 0;
            CHECK(syscall(SYS_nanosleep, &req, NULL));

            req.tv_nsec = 10 * 1000000;
            syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a);
            CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL));
            syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
            SAY("relative >= 10ms: %d\n", ns(b) - ns(a) >= 10000000);
            struct timespec until = b;
            until.tv_nsec += 15 * 1000000;
            if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
            CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL));
            syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a);
            SAY("absolute reached: %d\n", ns(a) >= ns(until));
            syscall(SYS_clock_gettime, CLOCK_REALTIME, &until);
            until.tv_sec -= 10;
            CHECK(syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL));
            CHECK(syscall(SYS_clock_nanosleep, CLOCK_BOOTTIME, 0, &req, NULL));
            CHECK(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL));
            CHECK(syscall(SYS_clock_nanosleep, CPUCLOCK((int)syscall(SYS_gettid), 6), 0, &req, NULL));
            CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, &req, NULL));
            CHECK(syscall(SYS_clock_nanosleep, CLOCK_REALTIME_COARSE, 0, &req, NULL));
            CHECK(syscall(SYS_clock_nanosleep, 10, 0, &req, NULL));
            CHECK(syscall(SYS_clock_nanosleep, 100, 0, &req, NULL));
            CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, WILD, NULL));
            req.tv_nsec = 1000000000;
            CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL));
            CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &req, NULL));
            /* glibc's and musl's wrapper return the error number */
            SAY("clock_nanosleep() wrapper returns %s\n", errname(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL)));

            /* times */
            struct tms tm;
            memset(&tm, 0x55, sizeof tm);
            long ticks = syscall(SYS_times, &tm);
            SAY("times ok %d children 0 %d\n", ticks >= 0, tm.tms_cutime == 0 && tm.tms_cstime == 0);
            SAY("times(NULL) ok %d\n", syscall(SYS_times, NULL) >= ticks);
            CHECK(syscall(SYS_times, WILD));
            return 0;
        }
        """;
}
