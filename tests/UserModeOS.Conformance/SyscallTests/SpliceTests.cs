namespace UserModeOS.Conformance.SyscallTests;

/// <summary>splice(2) and tee(2): pipe to file, file to pipe, pipe to pipe, offsets and errors.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class SpliceTests(string compiler)
{
    [Test]
    public void SpliceAndTee() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        int main(void)
        {
            int p[2], q[2];
            char buf[256];
            pipe(p);
            pipe(q);
            int f = open("file", O_CREAT | O_RDWR | O_TRUNC, 0644);
            write(f, "0123456789abcdefghij", 20);
            int g = open("other", O_CREAT | O_RDWR | O_TRUNC, 0644);

            /* file -> pipe, at an offset and at the file position */
            loff_t off = 5;
            CHECK(splice(f, &off, p[1], NULL, 7, 0));
            SAY("off %ld pos %ld\n", (long)off, (long)lseek(f, 0, SEEK_CUR));
            lseek(f, 15, SEEK_SET);
            CHECK(splice(f, NULL, p[1], NULL, 100, 0));
            SAY("pos %ld\n", (long)lseek(f, 0, SEEK_CUR));
            CHECK(splice(f, NULL, p[1], NULL, 100, 0));

            /* tee duplicates without consuming */
            CHECK(tee(p[0], q[1], 4, 0));
            CHECK(tee(p[0], q[1], 100, 0));
            int n = read(q[0], buf, sizeof buf);
            SAY("q has %.*s\n", n, buf);

            /* pipe -> file at an offset, then at the position */
            loff_t out = 3;
            CHECK(splice(p[0], NULL, g, &out, 5, SPLICE_F_MOVE));
            SAY("out %ld pos %ld\n", (long)out, (long)lseek(g, 0, SEEK_CUR));
            CHECK(splice(p[0], NULL, g, NULL, 100, 0));
            SAY("pos %ld\n", (long)lseek(g, 0, SEEK_CUR));
            n = pread(g, buf, sizeof buf, 0);
            for (int i = 0; i < n; i++) if (!buf[i]) buf[i] = '.';
            SAY("other: %.*s\n", n, buf);

            /* pipe -> pipe */
            write(p[1], "hello", 5);
            CHECK(splice(p[0], NULL, q[1], NULL, 3, 0));
            n = read(q[0], buf, sizeof buf);
            SAY("q has %.*s\n", n, buf);

            /* errors */
            CHECK(splice(p[0], &off, g, NULL, 1, 0));
            CHECK(splice(f, NULL, p[1], &off, 1, 0));
            CHECK(splice(p[0], NULL, q[1], &off, 1, 0));
            CHECK(splice(f, NULL, g, NULL, 1, 0));
            CHECK(splice(p[0], NULL, p[1], NULL, 1, 0));
            CHECK(splice(99, NULL, p[1], NULL, 1, 0));
            CHECK(splice(p[1], NULL, g, NULL, 1, 0));
            CHECK(splice(p[0], NULL, g, NULL, 0, 0));
            CHECK(splice(p[0], NULL, g, NULL, 1, 0x100));
            CHECK(tee(f, q[1], 1, 0));
            CHECK(tee(p[0], p[1], 1, 0));
            CHECK(tee(p[0], q[0], 1, 0));
            CHECK(tee(p[0], q[1], 0, 0));

            /* non-blocking: empty and full pipes */
            read(p[0], buf, sizeof buf);
            CHECK(splice(p[0], NULL, g, NULL, 10, SPLICE_F_NONBLOCK));
            CHECK(tee(p[0], q[1], 10, SPLICE_F_NONBLOCK));
            CHECK(splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK));
            fcntl(q[1], F_SETFL, O_NONBLOCK);
            static char big[65536];
            CHECK(write(q[1], big, sizeof big));
            off = 0;
            CHECK(splice(f, &off, q[1], NULL, 10, SPLICE_F_NONBLOCK));
            write(p[1], "xy", 2);
            CHECK(tee(p[0], q[1], 10, SPLICE_F_NONBLOCK));
            CHECK(splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK));

            /* end of file: no writers */
            close(p[1]);
            CHECK(splice(p[0], NULL, g, NULL, 10, 0));
            CHECK(splice(p[0], NULL, g, NULL, 10, 0));
            return 0;
        }
        """;
}
