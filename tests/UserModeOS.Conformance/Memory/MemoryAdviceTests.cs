using UserModeOS.Conformance.SyscallTests;

namespace UserModeOS.Conformance.Memory;

/// <summary>msync, mincore, the mlock family and membarrier: results and errors.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class MemoryAdviceTests(string compiler)
{
    [Test]
    public void MsyncMincoreMlockMembarrier() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        #include <sys/mman.h>

        int main(void)
        {
            char *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            char *hole = p + 2 * 4096;
            CHECK(munmap(hole, 4096));

            CHECK(msync(p, 4096, MS_SYNC));
            CHECK(msync(p, 4096, MS_ASYNC));
            CHECK(msync(p, 4096, MS_INVALIDATE));
            CHECK(msync(p, 0, MS_SYNC));
            CHECK(msync(p + 1, 4096, MS_SYNC));
            CHECK(msync(p, 4096, MS_SYNC | MS_ASYNC));
            CHECK(msync(p, 4096, 8));
            CHECK(msync(hole, 4096, MS_SYNC));
            CHECK(msync(p, 4 * 4096, MS_SYNC));

            unsigned char vec[4] = {9, 9, 9, 9};
            p[0] = 1;
            CHECK(mincore(p, 2 * 4096, vec));
            SAY("vec %d %d\n", vec[0] & 1, vec[1] & 1);
            p[4096] = 1;
            CHECK(mincore(p, 4096 + 1, vec));
            SAY("vec %d %d\n", vec[0] & 1, vec[1] & 1);
            CHECK(mincore(p, 0, vec));
            CHECK(mincore(p + 1, 4096, vec));
            CHECK(mincore(hole, 4096, vec));
            CHECK(mincore(p, 4 * 4096, vec));
            CHECK(mincore(p, 4096, WILD));

            CHECK(mlock(p, 4096));
            CHECK(mlock(p + 10, 100));
            CHECK(mlock(p, 0));
            CHECK(mlock(hole, 4096));
            CHECK(mlock(p, 4 * 4096));
            CHECK(munlock(p, 4096));
            CHECK(munlock(hole, 4096));
            CHECK(syscall(SYS_mlock2, p, 4096, 0));
            CHECK(syscall(SYS_mlock2, p, 4096, 1));
            CHECK(syscall(SYS_mlock2, p, 4096, 2));
            CHECK(syscall(SYS_mlock2, hole, 4096, 0));
            CHECK(mlockall(0));
            CHECK(mlockall(MCL_ONFAULT));
            CHECK(mlockall(8));
            CHECK(mlockall(MCL_CURRENT));
            CHECK(mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT));
            CHECK(munlockall());

            CHECK(syscall(SYS_membarrier, 0, 0, 0));
            CHECK(syscall(SYS_membarrier, 0, 1, 0));
            CHECK(syscall(SYS_membarrier, 512, 0, 0));
            CHECK(syscall(SYS_membarrier, 8, 0, 0));
            CHECK(syscall(SYS_membarrier, 16, 0, 0));
            CHECK(syscall(SYS_membarrier, 8, 0, 0));
            CHECK(syscall(SYS_membarrier, 8, 1, 0));
            CHECK(syscall(SYS_membarrier, 1, 0, 0));
            CHECK(syscall(SYS_membarrier, 2, 0, 0));
            CHECK(syscall(SYS_membarrier, 4, 0, 0));
            CHECK(syscall(SYS_membarrier, 2, 0, 0));
            CHECK(syscall(SYS_membarrier, 512, 0, 0));
            CHECK(syscall(SYS_membarrier, 3, 0, 0));
            CHECK(syscall(SYS_membarrier, 1024, 0, 0));
            CHECK(syscall(SYS_membarrier, -1, 0, 0));
            return 0;
        }
        """;
}
