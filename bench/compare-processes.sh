#!/usr/bin/env bash
# Process and futex latencies, natively and under umos, as a Markdown table.
#
#   bench/compare-processes.sh [--n N] [--futex-n N] [--runs R] [--work DIR]
#
# Three static C programs (built with gcc -static -O2 -pthread into the work folder) time
# themselves with CLOCK_MONOTONIC and print microseconds per operation:
#   fork+exec+wait  N x (fork, execve /bin/busybox true, waitpid)
#   fork+exit+wait  N x (fork, _exit(0), waitpid)
#   futex ping-pong 2 threads handing a token back and forth through FUTEX_WAIT/FUTEX_WAKE
#                   N round trips (the figure is per one-way wake-up)
# Each runs R times (default 3) natively and under umos (`./umos run`, built first); the table
# shows the median. Timing only: nothing here is asserted by tests.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
n=200
futex_n=20000
runs=3
work="${UMOS_BENCH_WORK:-/tmp/umos-bench}/processes"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --n) n="$2"; shift 2 ;;
    --futex-n) futex_n="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$work"

cat > "$work/procbench.c" <<'C'
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static uint32_t token;
static int rounds;

static void wait_for(uint32_t want)
{
    uint32_t v;
    while ((v = __atomic_load_n(&token, __ATOMIC_ACQUIRE)) != want)
        syscall(SYS_futex, &token, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void hand_to(uint32_t who)
{
    __atomic_store_n(&token, who, __ATOMIC_RELEASE);
    syscall(SYS_futex, &token, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *pong(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) { wait_for(1); hand_to(0); }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: procbench forkexec|forkexit|futex N\n"); return 2; }
    int count = atoi(argv[2]);
    double start = now_us(), per;
    if (strcmp(argv[1], "forkexec") == 0 || strcmp(argv[1], "forkexit") == 0) {
        int exec = argv[1][4] == 'e' && argv[1][5] == 'x' && argv[1][6] == 'e';
        for (int i = 0; i < count; i++) {
            pid_t c = fork();
            if (c == 0) {
                if (exec) { char *a[] = { "true", NULL }; execv("/bin/busybox", a); }
                _exit(0);
            }
            int st;
            if (c < 0 || waitpid(c, &st, 0) != c || st != 0) { fprintf(stderr, "child failed\n"); return 1; }
        }
        per = (now_us() - start) / count;
    } else {
        rounds = count;
        pthread_t t;
        pthread_create(&t, NULL, pong, NULL);
        start = now_us();
        for (int i = 0; i < rounds; i++) { hand_to(1); wait_for(0); }
        per = (now_us() - start) / (2.0 * rounds);
        pthread_join(t, NULL);
    }
    printf("%.2f\n", per);
    return 0;
}
C
gcc -static -O2 -pthread -o "$work/procbench" "$work/procbench.c"

# Build umos once (what ./umos does when stale) and run the dll directly afterwards.
"$repo/umos" --version > /dev/null
umos=(dotnet "$repo/.umos-build/umos.dll" run --)

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

measure() { # measure native|umos MODE N
  local side="$1" mode="$2" count="$3" i
  for ((i = 0; i < runs; i++)); do
    if [[ $side == native ]]; then "$work/procbench" "$mode" "$count"; else "${umos[@]}" "$work/procbench" "$mode" "$count"; fi
  done | median
}

printf '| %-32s | %12s | %12s | %8s |\n' "operation (µs, median of $runs)" native umos ratio
printf '|%s|%s|%s|%s|\n' "----------------------------------" "-------------:" "-------------:" "---------:"
for row in "forkexec:$n:fork + execve(busybox true) + waitpid" "forkexit:$n:fork + _exit + waitpid" "futex:$futex_n:futex wake-up (ping-pong, one way)"; do
  IFS=: read -r mode count label <<< "$row"
  nat="$(measure native "$mode" "$count")"
  emu="$(measure umos "$mode" "$count")"
  printf '| %-32s | %12s | %12s | %7sx |\n' "$label" "$nat" "$emu" "$(awk -v a="$emu" -v b="$nat" 'BEGIN { printf "%.1f", a / b }')"
done
