/* C integer hash loop: FNV-1a-style mixing of a counter, serial dependency chain.
   usage: hash [iterations]   (default 200000000) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], 0, 10) : 200000000ULL;
    uint64_t h = 1469598103934665603ULL;
    for (uint64_t i = 0; i < n; i++) {
        h ^= i;
        h *= 1099511628211ULL;
        h ^= h >> 29;
    }
    printf("%016llx\n", (unsigned long long)h);
    return 0;
}
