namespace UserModeOS.Conformance.SyscallTests;

/// <summary>sendfile(2) and copy_file_range(2): offsets, positions, short ends, bad fds.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class TransferTests(string compiler)
{
    [Test]
    public void SendfileAndCopyFileRange() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        #include <sys/sendfile.h>
        int main(void)
        {
            int src = open("src", O_CREAT | O_RDWR | O_TRUNC, 0644);
            for (int i = 0; i < 5000; i++) { char c = 'a' + i % 26; write(src, &c, 1); }
            int dst = open("dst", O_CREAT | O_RDWR | O_TRUNC, 0644);
            off_t off = 10;
            CHECK(sendfile(dst, src, &off, 100));
            SAY("offset now %ld, src position %ld\n", (long)off, (long)lseek(src, 0, SEEK_CUR));
            lseek(src, 4990, SEEK_SET);
            CHECK(sendfile(dst, src, NULL, 100));
            SAY("src position %ld\n", (long)lseek(src, 0, SEEK_CUR));
            CHECK(sendfile(dst, src, NULL, 100));
            CHECK(sendfile(dst, 99, NULL, 1));
            CHECK(sendfile(dst, src, (off_t *)WILD, 1));
            off_t in = 0, out = 200;
            CHECK(syscall(SYS_copy_file_range, src, &in, dst, &out, 300, 0));
            SAY("in %ld out %ld\n", (long)in, (long)out);
            CHECK(syscall(SYS_copy_file_range, src, &in, dst, &out, 1, 1));
            char buf[600];
            int n = pread(dst, buf, sizeof buf, 0);
            SAY("dst has %d bytes, starts %.20s, at 200: %.10s\n", n, buf, buf + 200);
            return 0;
        }
        """;
}
