namespace UserModeOS.Conformance.SyscallTests;

/// <summary>Credentials (the tests run as root, as do guests), umask(2) and the process group and session calls.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class IdentityTests(string compiler)
{
    [Test]
    public void IdsUmaskAndGroups() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        #include <grp.h>

        int main(void)
        {
            CHECK(syscall(SYS_getuid));
            CHECK(syscall(SYS_geteuid));
            CHECK(syscall(SYS_getgid));
            CHECK(syscall(SYS_getegid));
            unsigned r = 9, e = 9, s = 9;
            CHECK(syscall(SYS_getresuid, &r, &e, &s));
            SAY("%u %u %u\n", r, e, s);
            r = e = s = 9;
            CHECK(syscall(SYS_getresgid, &r, &e, &s));
            SAY("%u %u %u\n", r, e, s);
            CHECK(syscall(SYS_getresuid, WILD, &e, &s));
            CHECK(syscall(SYS_getresgid, &r, &e, WILD));
            gid_t groups[8];
            CHECK(syscall(SYS_getgroups, 0, NULL));
            CHECK(syscall(SYS_getgroups, 8, groups));
            CHECK(syscall(SYS_getgroups, -1, groups));
            CHECK(syscall(SYS_setgroups, 0, NULL));
            CHECK(syscall(SYS_setgroups, -1, NULL));
            CHECK(syscall(SYS_setuid, 0));
            CHECK(syscall(SYS_setgid, 0));
            CHECK(syscall(SYS_setuid, -1));
            CHECK(syscall(SYS_setreuid, -1, -1));
            CHECK(syscall(SYS_setreuid, 0, 0));
            CHECK(syscall(SYS_setregid, -1, 0));
            CHECK(syscall(SYS_setresuid, -1, -1, -1));
            CHECK(syscall(SYS_setresuid, 0, -1, 0));
            CHECK(syscall(SYS_setresgid, 0, 0, 0));
            CHECK(syscall(SYS_setfsuid, 0));
            CHECK(syscall(SYS_setfsuid, -1));
            CHECK(syscall(SYS_setfsgid, -1));

            CHECK(syscall(SYS_umask, 077));
            CHECK(syscall(SYS_umask, 0777777));
            CHECK(syscall(SYS_umask, 022));
            CHECK(syscall(SYS_umask, 022));

            pid_t pid = getpid();
            pid_t pgrp = syscall(SYS_getpgrp);
            SAY("getpgid(0) == getpgrp: %d\n", syscall(SYS_getpgid, 0) == pgrp);
            SAY("getpgid(pid) == getpgrp: %d\n", syscall(SYS_getpgid, pid) == pgrp);
            SAY("getsid(0) == getsid(pid): %d\n", syscall(SYS_getsid, 0) == syscall(SYS_getsid, pid));
            CHECK(syscall(SYS_getpgid, -1));
            CHECK(syscall(SYS_getsid, -1));
            CHECK(syscall(SYS_getpgid, 0x3fffffff));
            CHECK(syscall(SYS_getsid, 0x3fffffff));
            CHECK(syscall(SYS_setpgid, 0, -1));
            CHECK(syscall(SYS_setpgid, 0x3fffffff, 0));
            return 0;
        }
        """;
}
