/* Sieve of Eratosthenes; prints the number of primes below the limit.
   usage: sieve [limit]   (default 50000000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 50000000L;
    char *composite = calloc(n + 1, 1);
    if (!composite) {
        perror("calloc");
        return 1;
    }
    long count = 0;
    for (long i = 2; i <= n; i++) {
        if (composite[i])
            continue;
        count++;
        for (long j = i * i; j <= n; j += i)
            composite[j] = 1;
    }
    printf("%ld\n", count);
    free(composite);
    return 0;
}
