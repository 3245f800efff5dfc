namespace UserModeOS.Conformance.Processes;

/// <summary>pthreads and futexes: 8 threads contending on mutexes, condvars, rwlocks and barriers, TLS, cancellation, and the futex operations with their timeouts.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class ThreadTests(string compiler)
{
    /// <summary>Mutex, condvar, rwlock and barrier contention among 8 threads; TLS and keys; pthread_cancel (deferred and asynchronous); fork and exit from threads.</summary>
    [Test]
    public void Pthreads() => ProcessPrograms.AssertSameAsNative(PthreadsSource, compiler);

    /// <summary>FUTEX_WAIT relative timeouts, FUTEX_WAIT_BITSET absolute timeouts on CLOCK_MONOTONIC and CLOCK_REALTIME, WAKE, WAKE_BITSET, REQUEUE, CMP_REQUEUE, WAKE_OP.</summary>
    [Test]
    public void Futex() => ProcessPrograms.AssertSameAsNative(FutexSource, compiler);

    private const string PthreadsSource = """
        #define NT 8

        static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        static long counter;
        static void *contend(void *arg)
        {
            (void)arg;
            for (int i = 0; i < 5000; i++) {
                pthread_mutex_lock(&mu);
                long v = counter;
                if ((i & 63) == 0) sched_yield();
                counter = v + 1;
                pthread_mutex_unlock(&mu);
            }
            return NULL;
        }

        /* a bounded queue with two condition variables */
        #define QN 4
        static pthread_mutex_t qm = PTHREAD_MUTEX_INITIALIZER;
        static pthread_cond_t notfull = PTHREAD_COND_INITIALIZER, notempty = PTHREAD_COND_INITIALIZER;
        static int q[QN], qh, qt, qc;
        static long consumed_sum;
        static void *producer(void *arg)
        {
            long id = (long)arg;
            for (int i = 1; i <= 500; i++) {
                pthread_mutex_lock(&qm);
                while (qc == QN) pthread_cond_wait(&notfull, &qm);
                q[qt] = (int)(id * 1000 + i); qt = (qt + 1) % QN; qc++;
                pthread_cond_signal(&notempty);
                pthread_mutex_unlock(&qm);
            }
            return NULL;
        }
        static void *consumer(void *arg)
        {
            (void)arg;
            long sum = 0;
            for (;;) {
                pthread_mutex_lock(&qm);
                while (qc == 0) pthread_cond_wait(&notempty, &qm);
                int v = q[qh]; qh = (qh + 1) % QN; qc--;
                pthread_cond_signal(&notfull);
                pthread_mutex_unlock(&qm);
                if (v < 0) break;
                sum += v;
            }
            pthread_mutex_lock(&qm);
            consumed_sum += sum;
            pthread_mutex_unlock(&qm);
            return NULL;
        }

        /* rwlock: writers keep two values equal; readers must never see them differ */
        static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
        static long ra, rb, torn_reads, reads;
        static void *rw_worker(void *arg)
        {
            long id = (long)arg;
            for (int i = 0; i < 2000; i++) {
                if ((id + i) % 5 == 0) {
                    pthread_rwlock_wrlock(&rw);
                    ra++;
                    if ((i & 15) == 0) sched_yield();
                    rb++;
                    pthread_rwlock_unlock(&rw);
                } else {
                    pthread_rwlock_rdlock(&rw);
                    if (ra != rb) __atomic_add_fetch(&torn_reads, 1, __ATOMIC_RELAXED);
                    __atomic_add_fetch(&reads, 1, __ATOMIC_RELAXED);
                    pthread_rwlock_unlock(&rw);
                }
            }
            return NULL;
        }

        /* barrier: every round, exactly one serial thread, and nobody runs ahead */
        static pthread_barrier_t bar;
        static int serials, round_of[NT], ahead;
        static void *bar_worker(void *arg)
        {
            long id = (long)arg;
            for (int r = 0; r < 50; r++) {
                round_of[id] = r;
                int s = pthread_barrier_wait(&bar);
                if (s == PTHREAD_BARRIER_SERIAL_THREAD) __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
                else if (s != 0) __atomic_add_fetch(&ahead, 1000, __ATOMIC_RELAXED);
                for (int j = 0; j < NT; j++) if (round_of[j] < r) __atomic_add_fetch(&ahead, 1, __ATOMIC_RELAXED);
                pthread_barrier_wait(&bar);
            }
            return NULL;
        }

        /* thread-local storage */
        static __thread long tls_counter = 100;
        static __thread char tls_name[16] = "initial";
        static pthread_key_t key;
        static int destructor_runs;
        static void destructor(void *p) { __atomic_add_fetch(&destructor_runs, 1, __ATOMIC_RELAXED); free(p); }
        static void *tls_worker(void *arg)
        {
            long id = (long)arg;
            int ok = tls_counter == 100 && strcmp(tls_name, "initial") == 0;
            for (int i = 0; i < 1000; i++) tls_counter++;
            snprintf(tls_name, sizeof tls_name, "t%ld", id);
            long *mine = malloc(sizeof(long));
            *mine = id;
            pthread_setspecific(key, mine);
            sched_yield();
            ok = ok && tls_counter == 1100 && tls_name[1] == '0' + id && *(long *)pthread_getspecific(key) == id;
            return (void *)(long)ok;
        }

        /* cancellation */
        static int cleanups;
        static void cleanup(void *arg) { (void)arg; __atomic_add_fetch(&cleanups, 1, __ATOMIC_RELAXED); }
        static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
        static pthread_cond_t cc = PTHREAD_COND_INITIALIZER;
        static void *cancel_cond(void *arg)
        {
            (void)arg;
            pthread_mutex_lock(&cm);
            pthread_cleanup_push(cleanup, NULL);
            pthread_cleanup_push((void (*)(void *))pthread_mutex_unlock, &cm);
            for (;;) pthread_cond_wait(&cc, &cm);
            pthread_cleanup_pop(0);
            pthread_cleanup_pop(0);
            return NULL;
        }
        static int cancel_pipe[2];
        static void *cancel_read(void *arg)
        {
            (void)arg;
            char b;
            pthread_cleanup_push(cleanup, NULL);
            read(cancel_pipe[0], &b, 1);
            pthread_cleanup_pop(0);
            return NULL;
        }
        static void *cancel_sleep(void *arg)
        {
            (void)arg;
            pthread_cleanup_push(cleanup, NULL);
            for (;;) sleep(10);
            pthread_cleanup_pop(0);
            return NULL;
        }
        static volatile int spin_started;
        static void *cancel_async(void *arg)
        {
            (void)arg;
            pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
            spin_started = 1;
            volatile unsigned x = 0;
            for (;;) x++;
            return NULL;
        }
        static void *cancel_disabled(void *arg)
        {
            (void)arg;
            pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
            sleep_ms(100);
            pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
            pthread_testcancel();
            return (void *)7;
        }

        static void *gettid_worker(void *arg) { *(pid_t *)arg = (pid_t)syscall(SYS_gettid); return NULL; }
        static void *exit_worker(void *arg) { (void)arg; pthread_exit((void *)42); return NULL; }

        int main(void)
        {
            pthread_t th[NT];
            for (long i = 0; i < NT; i++) pthread_create(&th[i], NULL, contend, NULL);
            for (int i = 0; i < NT; i++) pthread_join(th[i], NULL);
            SAY("mutex counter: %ld\n", counter);

            for (long i = 0; i < NT / 2; i++) pthread_create(&th[i], NULL, producer, (void *)(i + 1));
            for (long i = NT / 2; i < NT; i++) pthread_create(&th[i], NULL, consumer, NULL);
            for (int i = 0; i < NT / 2; i++) pthread_join(th[i], NULL);
            for (int i = NT / 2; i < NT; i++) {
                pthread_mutex_lock(&qm);
                while (qc == QN) pthread_cond_wait(&notfull, &qm);
                q[qt] = -1; qt = (qt + 1) % QN; qc++;
                pthread_cond_signal(&notempty);
                pthread_mutex_unlock(&qm);
            }
            for (int i = NT / 2; i < NT; i++) pthread_join(th[i], NULL);
            long expect = 0;
            for (long id = 1; id <= NT / 2; id++) for (int i = 1; i <= 500; i++) expect += id * 1000 + i;
            SAY("condvar queue: consumed everything %d\n", consumed_sum == expect);

            for (long i = 0; i < NT; i++) pthread_create(&th[i], NULL, rw_worker, (void *)i);
            for (int i = 0; i < NT; i++) pthread_join(th[i], NULL);
            SAY("rwlock: writes %ld equal %d torn reads %ld reads %ld\n", ra, ra == rb, torn_reads, reads);
            pthread_rwlock_rdlock(&rw);
            SAY("rdlock twice: %d; trywrlock while read-locked: %s\n", pthread_rwlock_tryrdlock(&rw), pthread_rwlock_trywrlock(&rw) == EBUSY ? "EBUSY" : "?");
            pthread_rwlock_unlock(&rw);
            pthread_rwlock_unlock(&rw);

            pthread_barrier_init(&bar, NULL, NT);
            for (long i = 0; i < NT; i++) pthread_create(&th[i], NULL, bar_worker, (void *)i);
            for (int i = 0; i < NT; i++) pthread_join(th[i], NULL);
            SAY("barrier: serial threads %d (one per round), ran ahead %d\n", serials, ahead);
            pthread_barrier_destroy(&bar);

            pthread_key_create(&key, destructor);
            int tls_ok = 0;
            for (long i = 0; i < NT; i++) pthread_create(&th[i], NULL, tls_worker, (void *)i);
            for (int i = 0; i < NT; i++) { void *r; pthread_join(th[i], &r); tls_ok += (int)(long)r; }
            SAY("TLS: %d of %d threads saw their own values; main still %ld %s; destructors %d\n", tls_ok, NT, tls_counter, tls_name, destructor_runs);

            void *res;
            pthread_create(&th[0], NULL, cancel_cond, NULL);
            sleep_ms(50);
            pthread_cancel(th[0]);
            pthread_join(th[0], &res);
            SAY("cancel in cond_wait: canceled %d, mutex free %d\n", res == PTHREAD_CANCELED, pthread_mutex_trylock(&cm) == 0);
            pthread_mutex_unlock(&cm);
            pipe(cancel_pipe);
            pthread_create(&th[0], NULL, cancel_read, NULL);
            sleep_ms(50);
            pthread_cancel(th[0]);
            pthread_join(th[0], &res);
            SAY("cancel in read: canceled %d\n", res == PTHREAD_CANCELED);
            pthread_create(&th[0], NULL, cancel_sleep, NULL);
            sleep_ms(50);
            pthread_cancel(th[0]);
            pthread_join(th[0], &res);
            SAY("cancel in sleep: canceled %d\n", res == PTHREAD_CANCELED);
            pthread_create(&th[0], NULL, cancel_async, NULL);
            while (!spin_started) sched_yield();
            pthread_cancel(th[0]);
            pthread_join(th[0], &res);
            SAY("asynchronous cancel of a spinning thread: canceled %d\n", res == PTHREAD_CANCELED);
            pthread_create(&th[0], NULL, cancel_disabled, NULL);
            sleep_ms(20);
            pthread_cancel(th[0]);
            pthread_join(th[0], &res);
            SAY("cancel while disabled, acted on at testcancel: canceled %d\n", res == PTHREAD_CANCELED);
            SAY("cleanup handlers run: %d\n", cleanups);

            pid_t tids[NT];
            for (int i = 0; i < NT; i++) pthread_create(&th[i], NULL, gettid_worker, &tids[i]);
            for (int i = 0; i < NT; i++) pthread_join(th[i], NULL);
            int distinct = 1;
            for (int i = 0; i < NT; i++) {
                if (tids[i] == getpid()) distinct = 0;
                for (int j = 0; j < i; j++) if (tids[i] == tids[j]) distinct = 0;
            }
            SAY("thread ids distinct and not the pid: %d\n", distinct);
            pthread_create(&th[0], NULL, exit_worker, NULL);
            pthread_join(th[0], &res);
            SAY("pthread_exit value: %ld\n", (long)res);
            pthread_attr_t at;
            pthread_attr_init(&at);
            pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
            for (int i = 0; i < NT; i++) pthread_create(&th[i], &at, exit_worker, NULL);
            sleep_ms(50);
            SAY("detached threads ran\n");

            /* fork from a threaded process: the child has one thread and working locks */
            pthread_create(&th[0], NULL, cancel_sleep, NULL);
            pid_t c = fork();
            if (c == 0) {
                pthread_mutex_lock(&mu);
                pthread_mutex_unlock(&mu);
                pthread_t t2;
                pthread_create(&t2, NULL, exit_worker, NULL);
                pthread_join(t2, &res);
                _exit((int)(long)res);
            }
            int status;
            waitpid(c, &status, 0);
            describe_status("fork from a threaded process", status);
            pthread_cancel(th[0]);
            pthread_join(th[0], NULL);

            /* exit from a thread ends the whole process */
            c = fork();
            if (c == 0) {
                pthread_create(&th[0], NULL, cancel_sleep, NULL);
                pthread_create(&th[1], NULL, (void *(*)(void *))exit, (void *)9);
                for (;;) pause();
            }
            waitpid(c, &status, 0);
            describe_status("exit() in a second thread", status);
            return 0;
        }
        """;

    private const string FutexSource = """
        static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts, uint32_t *uaddr2, uint32_t val3)
        {
            return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
        }

        static const char *ename(void) { return errno == ETIMEDOUT ? "ETIMEDOUT" : errno == EAGAIN ? "EAGAIN" : errno == EINVAL ? "EINVAL" : errno == EINTR ? "EINTR" : strerror(errno); }

        static uint32_t word, word2;
        static volatile int woke;

        static void *waiter(void *arg)
        {
            (void)arg;
            long r = futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
            __atomic_add_fetch(&woke, 1, __ATOMIC_SEQ_CST);
            return (void *)r;
        }

        static void *bit_waiter(void *arg)
        {
            long r = futex(&word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, (uint32_t)(uintptr_t)arg);
            __atomic_add_fetch(&woke, 1, __ATOMIC_SEQ_CST);
            return (void *)r;
        }

        static int waiting_on(uint32_t *addr, int n)
        {
            /* Nobody can observe a futex queue from user space: retry a requeue-free wake of 0 is useless, so just give them time. */
            (void)addr; (void)n;
            sleep_ms(100);
            return 0;
        }

        int main(void)
        {
            long r;
            long long t0, el;
            /* FUTEX_WAIT with a relative timeout */
            struct timespec rel = { 0, 50000000 };
            t0 = now_ns(CLOCK_MONOTONIC);
            errno = 0;
            r = futex(&word, FUTEX_WAIT, 0, &rel, NULL, 0);
            el = now_ns(CLOCK_MONOTONIC) - t0;
            SAY("FUTEX_WAIT 50 ms: %ld %s waited >= 50 ms %d\n", r, ename(), el >= 50000000LL);
            errno = 0;
            r = futex(&word, FUTEX_WAIT_PRIVATE, 1, &rel, NULL, 0);
            SAY("FUTEX_WAIT wrong value: %ld %s\n", r, ename());
            struct timespec bad = { 0, 1000000000L };
            errno = 0;
            r = futex(&word, FUTEX_WAIT, 0, &bad, NULL, 0);
            SAY("FUTEX_WAIT bad timeout: %ld %s\n", r, ename());
            struct timespec zero = { 0, 0 };
            errno = 0;
            r = futex(&word, FUTEX_WAIT, 0, &zero, NULL, 0);
            SAY("FUTEX_WAIT zero timeout: %ld %s\n", r, ename());

            /* FUTEX_WAIT_BITSET with an absolute timeout on CLOCK_MONOTONIC, then CLOCK_REALTIME */
            struct timespec abs;
            clock_gettime(CLOCK_MONOTONIC, &abs);
            abs.tv_nsec += 50000000;
            if (abs.tv_nsec >= 1000000000L) { abs.tv_sec++; abs.tv_nsec -= 1000000000L; }
            errno = 0;
            r = futex(&word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
            long long now = now_ns(CLOCK_MONOTONIC);
            SAY("WAIT_BITSET abs MONOTONIC: %ld %s deadline passed %d\n", r, ename(), now >= abs.tv_sec * 1000000000LL + abs.tv_nsec);
            clock_gettime(CLOCK_REALTIME, &abs);
            abs.tv_nsec += 50000000;
            if (abs.tv_nsec >= 1000000000L) { abs.tv_sec++; abs.tv_nsec -= 1000000000L; }
            errno = 0;
            r = futex(&word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
            now = now_ns(CLOCK_REALTIME);
            SAY("WAIT_BITSET abs REALTIME: %ld %s deadline passed %d\n", r, ename(), now >= abs.tv_sec * 1000000000LL + abs.tv_nsec);
            clock_gettime(CLOCK_MONOTONIC, &abs);
            abs.tv_sec -= 1;
            errno = 0;
            r = futex(&word, FUTEX_WAIT_BITSET, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
            SAY("WAIT_BITSET deadline in the past: %ld %s\n", r, ename());
            errno = 0;
            r = futex(&word, FUTEX_WAIT_BITSET, 0, &abs, NULL, 0);
            SAY("WAIT_BITSET bitset 0: %ld %s\n", r, ename());
            errno = 0;
            r = futex(&word, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 0, &rel, NULL, 0);
            SAY("FUTEX_WAIT with CLOCK_REALTIME flag: %ld %s\n", r, ename());
            errno = 0;
            r = futex(&word, 99, 0, NULL, NULL, 0);
            SAY("unknown op: %ld %s\n", r, errno == ENOSYS ? "ENOSYS" : ename());
            errno = 0;
            r = futex((uint32_t *)((char *)&word + 1), FUTEX_WAKE, 1, NULL, NULL, 0);
            SAY("unaligned: %ld %s\n", r, ename());
            SAY("WAKE nobody: %ld\n", futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0));

            /* WAKE wakes as many as asked */
            pthread_t th[4];
            woke = 0;
            for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, waiter, NULL);
            waiting_on(&word, 4);
            r = futex(&word, FUTEX_WAKE_PRIVATE, 3, NULL, NULL, 0);
            sleep_ms(50);
            SAY("WAKE 3 of 4: returned %ld, woke %d\n", r, woke);
            r = futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
            for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
            SAY("WAKE all: returned %ld, woke %d\n", r, woke);

            /* WAKE_BITSET only wakes waiters whose bitset intersects */
            woke = 0;
            pthread_create(&th[0], NULL, bit_waiter, (void *)(uintptr_t)1);
            pthread_create(&th[1], NULL, bit_waiter, (void *)(uintptr_t)2);
            waiting_on(&word, 2);
            r = futex(&word, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, INT_MAX, NULL, NULL, 2);
            sleep_ms(50);
            SAY("WAKE_BITSET 2: returned %ld, woke %d\n", r, woke);
            r = futex(&word, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, INT_MAX, NULL, NULL, 1);
            pthread_join(th[0], NULL);
            pthread_join(th[1], NULL);
            SAY("WAKE_BITSET 1: returned %ld, woke %d\n", r, woke);

            /* REQUEUE and CMP_REQUEUE */
            woke = 0;
            for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, waiter, NULL);
            waiting_on(&word, 3);
            errno = 0;
            r = futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(uintptr_t)1, &word2, 5);
            SAY("CMP_REQUEUE with a stale value: %ld %s\n", r, ename());
            r = futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(uintptr_t)INT_MAX, &word2, 0);
            sleep_ms(50);
            SAY("CMP_REQUEUE woke 1 moved 2: returned %ld, woke %d\n", r, woke);
            r = futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
            SAY("nobody left on the first word: %ld\n", r);
            r = futex(&word2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
            for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
            SAY("the requeued ones on the second word: %ld, woke %d\n", r, woke);
            woke = 0;
            for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, waiter, NULL);
            waiting_on(&word, 2);
            r = futex(&word, FUTEX_REQUEUE_PRIVATE, 0, (void *)(uintptr_t)1, &word2, 0);
            SAY("REQUEUE 0 woken 1 moved: %ld\n", r);
            r = futex(&word2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
            SAY("woken on the second word: %ld\n", r);
            r = futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
            SAY("woken on the first word: %ld\n", r);
            for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);

            /* WAKE_OP: word2 += 1 (old value compared == 0) wakes on both */
            woke = 0;
            word2 = 0;
            pthread_create(&th[0], NULL, waiter, NULL);
            waiting_on(&word, 1);
            uint32_t op = (1u << 28) | (0u << 24) | (1u << 12) | 0u;  /* FUTEX_OP_ADD, arg 1, FUTEX_OP_CMP_EQ, cmparg 0 */
            r = futex(&word2, FUTEX_WAKE_OP_PRIVATE, 1, (void *)(uintptr_t)1, &word, op);
            pthread_join(th[0], NULL);
            SAY("WAKE_OP: returned %ld, word2 now %u, woke %d\n", r, word2, woke);

            /* a FUTEX_WAIT interrupted by a handled signal returns EINTR */
            return 0;
        }
        """;
}
