/* Times file metadata calls from inside the process, in the current directory and on
   /usr/lib/x86_64-linux-gnu/libc.so.6: N x open+close, N x stat, and N x stat of a
   missing name, using clock_gettime(CLOCK_MONOTONIC). Makes (and removes) a 1-byte file
   stat_open.dat in the current directory. Prints ns per call; the second round is the one
   to read (the first warms up).
   usage: stat_open [calls]   (default 50000) */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const local = "stat_open.dat";
static const char *const libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int open_close(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -1 : close(fd);
}

static int stat_ok(const char *path)
{
    struct stat st;
    return stat(path, &st);
}

static int stat_missing(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? -1 : 0;
}

static void timed(const char *what, int (*call)(const char *), const char *path, long n)
{
    uint64_t start = now_ns();
    for (long i = 0; i < n; i++) {
        if (call(path) != 0) {
            perror(what);
            exit(1);
        }
    }
    printf("%-24s %8llu ns\n", what, (unsigned long long)((now_ns() - start) / (uint64_t)n));
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 50000;
    int fd = open(local, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "x", 1) != 1 || close(fd) != 0) {
        perror(local);
        return 1;
    }

    for (int round = 0; round < 2; round++) {
        printf("round %d\n", round + 1);
        timed("open+close cwd file", open_close, local, n);
        timed("stat cwd file", stat_ok, local, n);
        timed("stat libc.so.6", stat_ok, libc, n);
        timed("open+close libc.so.6", open_close, libc, n);
        timed("stat missing cwd name", stat_missing, "stat_open.missing", n);
    }

    unlink(local);
    return 0;
}
