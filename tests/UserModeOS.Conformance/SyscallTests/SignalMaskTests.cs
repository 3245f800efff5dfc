namespace UserModeOS.Conformance.SyscallTests;

/// <summary>rt_sigprocmask(2): a bad how fails before oldset is written; without a set how is not looked at.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class SignalMaskTests(string compiler)
{
    [Test]
    public void RtSigprocmask() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        int main(void)
        {
            unsigned long set = 1UL << (SIGUSR1 - 1), old = 0xdead, cur = 0;
            CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8));
            SAY("old %#lx\n", old);
            old = 0xdead;
            CHECK(syscall(SYS_rt_sigprocmask, 99, &set, &old, 8));
            SAY("old untouched by a bad how: %#lx\n", old);
            CHECK(syscall(SYS_rt_sigprocmask, 99, NULL, &old, 8));
            SAY("without a set, how is not checked: %#lx\n", old);
            CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 4));
            CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, WILD, &old, 8));
            set = ~0UL;
            CHECK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, WILD, 8));
            CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8));
            SAY("mask %#lx (the bad oldset still applied the set; SIGKILL/SIGSTOP never blocked)\n", cur);
            set = 1UL << (SIGUSR1 - 1);
            CHECK(syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, 8));
            CHECK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &cur, 8));
            SAY("mask %#lx\n", cur);
            set = 0;
            CHECK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8));
            return 0;
        }
        """;
}
