/* Times syscall round trips from inside the process: N x syscall(SYS_getpid) and
   N x write(fd, buf, 1) to /dev/null, using clock_gettime(CLOCK_MONOTONIC).
   Integer arithmetic only, so it runs on emulators without x87/SSE float support.
   usage: syscall_rt [calls]   (default 1000000) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void report(const char *what, uint64_t ns, long n)
{
    uint64_t tenths = ns * 10 / (uint64_t)n;
    printf("%s %llu.%llu ns\n", what, (unsigned long long)(tenths / 10), (unsigned long long)(tenths % 10));
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000L;
    if (n <= 0)
        n = 1;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++)
        syscall(SYS_getpid);
    report("getpid", now_ns() - t0, n);

    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0) {
        perror("open /dev/null");
        return 1;
    }
    char c = 'x';
    t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (write(fd, &c, 1) != 1) {
            perror("write");
            return 1;
        }
    report("write1", now_ns() - t0, n);
    return 0;
}
