namespace UserModeOS.Conformance.SyscallTests;

/// <summary>fallocate(2): growing a file, FALLOC_FL_KEEP_SIZE, unsupported modes and bad descriptors.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class FallocateTests(string compiler)
{
    [Test]
    public void Fallocate() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        static long size(int fd) { struct stat st; fstat(fd, &st); return (long)st.st_size; }

        int main(void)
        {
            int f = open("file", O_CREAT | O_RDWR | O_TRUNC, 0644);
            write(f, "hello", 5);
            CHECK(fallocate(f, 0, 0, 3));
            SAY("size %ld\n", size(f));
            CHECK(fallocate(f, 0, 2, 100));
            SAY("size %ld pos %ld\n", size(f), (long)lseek(f, 0, SEEK_CUR));
            char buf[200];
            int n = pread(f, buf, sizeof buf, 0);
            int zeros = 0;
            for (int i = 5; i < n; i++) zeros += buf[i] == 0;
            SAY("read %d: %.5s, %d zeros\n", n, buf, zeros);
            CHECK(fallocate(f, FALLOC_FL_KEEP_SIZE, 0, 4096));
            SAY("size %ld\n", size(f));
            CHECK(fallocate(f, 0, -1, 10));
            CHECK(fallocate(f, 0, 0, 0));
            CHECK(fallocate(f, 0, 0, -5));
            CHECK(fallocate(f, 0x100, 0, 10));
            CHECK(fallocate(f, 0, 0x7fffffffffffffffL, 10));
            CHECK(fallocate(99, 0, 0, 10));
            int r = open("file", O_RDONLY);
            CHECK(fallocate(r, 0, 0, 10));
            int p[2];
            pipe(p);
            CHECK(fallocate(p[1], 0, 0, 10));
            CHECK(fallocate(p[0], 0, 0, 10));
            int d = open(".", O_RDONLY | O_DIRECTORY);
            CHECK(fallocate(d, 0, 0, 10));
            int path = open("file", O_PATH);
            CHECK(fallocate(path, 0, 0, 10));
            SAY("size %ld\n", size(f));
            return 0;
        }
        """;
}
