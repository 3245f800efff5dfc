using UserModeOS.Conformance.SyscallTests;

namespace UserModeOS.Conformance.Memory;

/// <summary>
/// MAP_SHARED mappings: file pages that two mappings, two opens and two processes see
/// change at once, written back by msync, munmap and exit (never past the end of the file),
/// write(2) seen through the mappings, and anonymous shared memory across fork.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class SharedMappingTests(string compiler)
{
    [Test]
    public void SharedFileMappings() => SyscallPrograms.AssertSameAsNative(FileSource, compiler);

    [Test]
    public void SharedAnonymousAcrossFork() => SyscallPrograms.AssertSameAsNative(AnonymousSource, compiler);

    private const string FileSource = """
        #include <sys/mman.h>
        #include <sys/wait.h>

        static void show_file(const char *label)
        {
            char buf[16];
            int fd = open("f", O_RDONLY);
            struct stat st;
            fstat(fd, &st);
            SAY("%s: size %ld", label, (long)st.st_size);
            long offs[] = {0, 100, 4096, 5000, 8191, 9999};
            for (int i = 0; i < 6; i++) {
                pread(fd, buf, 1, offs[i]);
                SAY(" [%ld]=%d", offs[i], buf[0]);
            }
            SAY("\n");
            close(fd);
        }

        int main(void)
        {
            int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
            char block[10000];
            for (int i = 0; i < 10000; i++) block[i] = (char)(i % 7);
            CHECK(write(fd, block, sizeof block));

            char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            char *q = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            int fd2 = open("f", O_RDWR);
            char *r = mmap(NULL, 2 * 4096, PROT_READ, MAP_SHARED, fd2, 4096);
            SAY("mapped: %d %d %d\n", p != MAP_FAILED, q != MAP_FAILED, r != MAP_FAILED);
            SAY("initial: %d %d %d\n", p[0], q[5000], r[5000 - 4096]);

            p[0] = 100; p[5000] = 101; p[9999] = 102;
            p[10500] = 103; /* past the end of the file: never written back */
            SAY("other mapping: %d %d %d\n", q[0], q[5000], q[9999]);
            SAY("other open: %d %d tail %d\n", r[5000 - 4096], r[9999 - 4096], r[10500 - 4096]);
            show_file("before msync");
            CHECK(msync(p, 3 * 4096, MS_SYNC));
            show_file("after msync");

            /* A child writes; the parent sees it in its mapping at once, and in the file after the child exits. */
            pid_t pid = fork();
            if (pid == 0) {
                q[4096] = 55;
                while (p[100] != 77) usleep(1000);
                p[8191] = 88;
                _exit(0);
            }
            while (p[4096] != 55) usleep(1000);
            SAY("parent sees child's write: %d\n", r[0]);
            p[100] = 77;
            int status;
            waitpid(pid, &status, 0);
            SAY("child exited %d; parent sees %d\n", WEXITSTATUS(status), q[8191]);
            show_file("after child");

            /* write(2) shows in the mappings at once. */
            CHECK(pwrite(fd2, "*", 1, 300));
            lseek(fd2, 4100, SEEK_SET);
            CHECK(write(fd2, "++", 2));
            SAY("mapped after write: %d %d %d\n", q[300], r[4], r[5]);

            /* munmap writes back. */
            p[5000] = 120;
            CHECK(munmap(p, 3 * 4096));
            show_file("after munmap p");
            q[9999] = 121;
            CHECK(munmap(q, 3 * 4096));
            CHECK(munmap(r, 2 * 4096));
            show_file("after munmap all");

            /* Exit writes back. */
            pid = fork();
            if (pid == 0) {
                char *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                c[0] = 33;
                _exit(0);
            }
            waitpid(pid, &status, 0);
            show_file("after child exit");

            /* A fresh mapping sees the file as written. */
            char *s = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 4096);
            SAY("fresh: %d %d\n", s[0], s[5000 - 4096]);
            munmap(s, 4096);

            /* Writable shared mappings need an fd open for writing. */
            int ro = open("f", O_RDONLY);
            void *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
            SAY("rw shared of O_RDONLY: %s\n", w == MAP_FAILED ? errname(errno) : "mapped");
            char *ros = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
            CHECK(mprotect(ros, 4096, PROT_READ | PROT_WRITE));
            char *rop = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
            rop[0] = 99;
            CHECK(munmap(rop, 4096));
            show_file("after private write");
            return 0;
        }
        """;

    private const string AnonymousSource = """
        #include <sys/mman.h>
        #include <sys/wait.h>

        int main(void)
        {
            int *shared = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
            int *private = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            shared[0] = 1; private[0] = 1;
            pid_t pid = fork();
            if (pid == 0) {
                shared[0] = 2; shared[1024] = 3; private[0] = 4;
                while (shared[1] != 5) usleep(1000);
                shared[2] = 6;
                _exit(0);
            }
            while (shared[1024] != 3) usleep(1000);
            SAY("parent: shared %d %d private %d\n", shared[0], shared[1024], private[0]);
            shared[1] = 5;
            int status;
            waitpid(pid, &status, 0);
            SAY("after child: %d\n", shared[2]);
            return 0;
        }
        """;
}
