namespace UserModeOS.Conformance.SyscallTests;

/// <summary>getrandom(2): flags, sizes and bad buffers.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class RandomTests(string compiler)
{
    [Test]
    public void Getrandom() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        int main(void)
        {
            unsigned char buf[256], zero[256] = {0};
            CHECK(syscall(SYS_getrandom, buf, sizeof buf, 0));
            SAY("not all zero: %d\n", memcmp(buf, zero, sizeof buf) != 0);
            CHECK(syscall(SYS_getrandom, buf, 16, 1));
            CHECK(syscall(SYS_getrandom, buf, 16, 2));
            CHECK(syscall(SYS_getrandom, buf, 16, 4));
            CHECK(syscall(SYS_getrandom, buf, 16, 3));
            CHECK(syscall(SYS_getrandom, buf, 16, 5));
            CHECK(syscall(SYS_getrandom, buf, 16, 6));
            CHECK(syscall(SYS_getrandom, buf, 16, 8));
            CHECK(syscall(SYS_getrandom, buf, 16, 0x100));
            CHECK(syscall(SYS_getrandom, buf, 0, 0));
            CHECK(syscall(SYS_getrandom, WILD, 0, 0));
            CHECK(syscall(SYS_getrandom, WILD, 16, 0));
            CHECK(syscall(SYS_getrandom, NULL, 16, 0));
            size_t big = 40u << 20;
            unsigned char *p = malloc(big);
            CHECK(syscall(SYS_getrandom, p, big, 0));
            CHECK(syscall(SYS_getrandom, p, 33554431, 0));
            free(p);
            return 0;
        }
        """;
}
