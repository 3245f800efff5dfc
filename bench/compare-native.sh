#!/usr/bin/env bash
# Runs the same static programs natively and under umos and prints wall times and ratios.
#
#   bench/compare-native.sh [--runs N] [--only REGEX] [--hash-iters N] [--sieve-limit N]
#                           [--timeout SECONDS] [--work DIR] [--no-build]
#
# Every workload runs N times (default 3) natively and under umos; the table shows the
# median wall time of each. The output of every umos run is compared byte for byte with the
# native output. A run that fails (non-zero status, timeout, different output) prints FAILED
# with the reason instead of a number. Inputs are generated natively once into the work
# folder (default /tmp/umos-bench) and reused.
#
# umos is built once, at the start, into the work folder and run as
# `dotnet <work>/umos-build/umos.dll run -- PROGRAM ARGS` (what ./umos runs after its staleness
# check), so edits made while the suite runs do not change what is measured. Its wall time
# includes .NET start-up; the "startup" row measures that alone and the "excl. startup"
# column subtracts it.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
runs=3
only=""
hash_iters=200000000
sieve_limit=50000000
timeout_s=600
work="${UMOS_BENCH_WORK:-/tmp/umos-bench}"
build=1

while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --hash-iters) hash_iters="$2"; shift 2 ;;
    --sieve-limit) sieve_limit="$2"; shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

busybox=/bin/busybox
mkdir -p "$work/in" "$work/out" "$work/bin"

# ---------------------------------------------------------------- inputs (native, once)
gen() { # gen FILE COMMAND...: creates FILE with COMMAND's stdout unless it exists
  local file="$1"; shift
  if [[ ! -s "$file" ]]; then
    echo "generating $file" >&2
    "$@" > "$file.tmp" && mv "$file.tmp" "$file"
  fi
}
gen "$work/in/random64m" head -c $((64 << 20)) /dev/urandom
gen "$work/in/random16m" head -c $((16 << 20)) "$work/in/random64m"
# English-like text: words from a fixed vocabulary, seeded, so every machine gets the same file.
gen "$work/in/text16m" awk -v bytes=$((16 << 20)) 'BEGIN {
  srand(42)
  n = split("the of and to in is was that for it with as his on be at by he this had not are but from or have an they which one you were her all she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long here get both between life being under never day same another know while last might us great old year off come since against go came right used take three", w, " ")
  total = 0; col = 0
  while (total < bytes) {
    word = w[int(rand() * n) + 1]
    printf "%s", word; total += length(word); col += length(word)
    if (col > 70) { printf "\n"; col = 0 } else { printf " " }
    total++
  }
}'
gen "$work/in/lines200k" awk 'BEGIN {
  srand(7)
  for (i = 0; i < 200000; i++) {
    s = ""
    len = 8 + int(rand() * 40)
    for (j = 0; j < len; j++) s = s sprintf("%c", 97 + int(rand() * 26))
    print s
  }
}'

# ---------------------------------------------------------------- programs
for prog in hash sieve syscall_rt; do
  if [[ ! -x "$work/bin/$prog" || "$here/native/$prog.c" -nt "$work/bin/$prog" ]]; then
    gcc -O2 -static -o "$work/bin/$prog" "$here/native/$prog.c" || { echo "cannot build $prog.c" >&2; exit 1; }
  fi
done

umos_dll="$work/umos-build/umos.dll"
if [[ $build == 1 ]]; then
  # Other engineers edit the tree concurrently, so a build may fail briefly: retry a few times.
  for attempt in 1 2 3 4 5 6; do
    echo "building umos (Release) into $work/umos-build" >&2
    # Built as ./umos builds it: published ReadyToRun.
    if log="$(dotnet publish "$repo/hosts/umos/umos.csproj" -c Release --use-current-runtime --self-contained false \
                -p:PublishReadyToRun=true -o "$work/umos-build" -nologo -v q 2>&1)"; then
      built=1
      break
    fi
    built=0
    echo "umos build failed (attempt $attempt):" >&2
    echo "$log" | grep -E "error" | sort -u | head -5 >&2
    [[ $attempt == 6 ]] || sleep 30
  done
  if [[ $built == 0 ]]; then
    [[ -f "$umos_dll" ]] || exit 1
    echo "WARNING: measuring the previous umos build in $work/umos-build ($(date -r "$umos_dll"))" >&2
  fi
fi
[[ -f "$umos_dll" ]] || { echo "no umos build at $umos_dll" >&2; exit 1; }

# ---------------------------------------------------------------- measuring
# Each workload: name | anchor (qemu blink blink-interp gvisor ratios from ANCHORS.md, or -) | argv
# (argv is split at spaces; ^ stands for a space inside one argument)
workloads=(
  "startup (busybox true)|-|$busybox true"
  "dynamic /bin/true (ld.so + libc)|-|/bin/true"
  "python3 -c pass (start-up)|28x 15x 105x -|/usr/bin/python3 -c pass"
  "busybox md5sum 16 MiB|-|$busybox md5sum $work/in/random16m"
  "busybox md5sum 64 MiB|2.9x 6.7x 104.6x 4.5x|$busybox md5sum $work/in/random64m"
  "busybox sh arith loop 20k|9.4x 15.7x 237.7x 2.8x|$busybox sh -c i=0;while^[^\$i^-lt^20000^];^do^i=\$((i+1));^done"
  "busybox gzip 16 MiB random|2.2x 7.1x 79.2x 1.4x|$busybox gzip -c $work/in/random16m"
  "busybox gzip 16 MiB text|1.8x 6.3x 58.3x 1.4x|$busybox gzip -c $work/in/text16m"
  "busybox sort 200k lines|5.4x 10.1x 118.9x 2.9x|$busybox sort $work/in/lines200k"
  "C hash loop $((hash_iters / 1000000))M iter|1.1x 7.5x 133x 1.0x|$work/bin/hash $hash_iters"
  "C sieve to $((sieve_limit / 1000000))M|3.3x 9.1x 57x 1.2x|$work/bin/sieve $sieve_limit"
  "ldconfig --version (static-pie)|-|/sbin/ldconfig --version"
)

now_ns() { date +%s%N; }

median() { # median of the arguments
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# run_once MODE TAG ARGV...: runs once, stdout/stderr into files; echoes seconds or FAILED:reason
run_once() {
  local mode="$1" tag="$2"; shift 2
  local out="$work/out/$tag.$mode.out" err="$work/out/$tag.$mode.err"
  local t0 t1 status
  t0=$(now_ns)
  if [[ $mode == native ]]; then
    timeout "$timeout_s" "$@" > "$out" 2> "$err" < /dev/null
  else
    timeout "$timeout_s" dotnet "$umos_dll" run -- "$@" > "$out" 2> "$err" < /dev/null
  fi
  status=$?
  t1=$(now_ns)
  if [[ $status == 124 ]]; then
    echo "FAILED:timeout after ${timeout_s}s"
  elif [[ $status != 0 ]]; then
    echo "FAILED:exit status $status: $(grep -m1 . "$err" | cut -c1-160)"
  elif [[ $mode == umos ]] && ! cmp -s "$out" "$work/out/$tag.native.out"; then
    echo "FAILED:output differs from native ($(wc -c < "$out") vs $(wc -c < "$work/out/$tag.native.out") bytes)"
  else
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
  fi
}

rows=() notes=()
startup_umos=""
printf '%s\n' "runs per workload: $runs (median), timeout ${timeout_s}s, work folder $work" >&2
for w in "${workloads[@]}"; do
  IFS='|' read -r name anchor cmd <<< "$w"
  if [[ -n "$only" && ! "$name" =~ $only ]]; then
    continue
  fi
  read -r -a argv <<< "$cmd"
  for i in "${!argv[@]}"; do argv[i]="${argv[i]//^/ }"; done
  tag="$(echo "$name" | tr -c 'a-zA-Z0-9\n' '_')"
  echo "== $name" >&2
  native_times=() umos_times=() fail=""
  for ((r = 0; r < runs; r++)); do
    t=$(run_once native "$tag" "${argv[@]}")
    if [[ $t == FAILED:* ]]; then fail="native ${t#FAILED:}"; break; fi
    native_times+=("$t")
  done
  if [[ -z "$fail" ]]; then
    for ((r = 0; r < runs; r++)); do
      t=$(run_once umos "$tag" "${argv[@]}")
      echo "   umos run $((r + 1)): $t" >&2
      if [[ $t == FAILED:* ]]; then fail="${t#FAILED:}"; break; fi
      umos_times+=("$t")
    done
  fi
  # Diagnostics umos printed that the native run did not (unknown syscalls, instructions, ...).
  extra="$(grep -vxF -f "$work/out/$tag.native.err" "$work/out/$tag.umos.err" 2>/dev/null | sort -u | head -5)"
  [[ -s "$work/out/$tag.native.err" ]] || extra="$(sort -u "$work/out/$tag.umos.err" 2>/dev/null | head -5)"
  [[ -n "$extra" ]] && notes+=("$name:"$'\n'"$(sed 's/^/    /' <<< "$extra")")
  native=$(median "${native_times[@]}")
  if [[ -n "$fail" ]]; then
    rows+=("$name|${native:--}|FAILED: $fail|||$anchor")
    continue
  fi
  umos=$(median "${umos_times[@]}")
  [[ "$name" == startup* ]] && startup_umos="$umos"
  ratio=$(awk -v u="$umos" -v n="$native" 'BEGIN { printf "%.1fx", u / n }')
  excl="-"
  if [[ -n "$startup_umos" && "$name" != startup* ]]; then
    excl=$(awk -v u="$umos" -v s="$startup_umos" -v n="$native" 'BEGIN { d = u - s; if (d < 0) d = 0; printf "%.1fx", d / n }')
  fi
  rows+=("$name|$native|$umos|$ratio|$excl|$anchor")
done

echo
echo "| workload | native s | umos s | umos/native | excl. startup | qemu-user / Blink / Blink interp / gVisor (ANCHORS.md) |"
echo "|---|---:|---:|---:|---:|---|"
for row in "${rows[@]}"; do
  IFS='|' read -r name native umos ratio excl anchor <<< "$row"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$native" "$umos" "${ratio:--}" "${excl:--}" "${anchor// / \/ }"
done

# Syscall round trips measured from inside the program (clock_gettime around 1M calls).
if [[ -z "$only" || "syscall" =~ $only ]]; then
  echo
  echo "syscall round trip, 1M calls timed inside the program (bench/native/syscall_rt.c):"
  printf '  native: %s\n' "$("$work/bin/syscall_rt" | paste -sd, -)"
  printf '  umos:   %s\n' "$(timeout "$timeout_s" dotnet "$umos_dll" run -- "$work/bin/syscall_rt" 2>&1 | paste -sd, -)"
fi

if [[ ${#notes[@]} -gt 0 ]]; then
  echo
  echo "stderr lines under umos that the native run did not print (first 5 per workload):"
  printf '%s\n' "${notes[@]}"
fi
echo
echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), dotnet $(dotnet --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
