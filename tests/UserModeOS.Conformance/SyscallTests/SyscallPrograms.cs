using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.SyscallTests;

/// <summary>
/// What the syscall conformance programs share: a C prelude with CHECK/OK macros that print
/// each call with its result and errno name, and the native-versus-umos comparison. Each
/// side runs in its own fresh temp folder; the programs only use relative paths there.
/// </summary>
internal static class SyscallPrograms
{
    /// <summary>Includes, errno names and the CHECK (value and errno), OK (success only) and SAY macros; WILD is an unmapped address.</summary>
    public const string Prelude = """
        #define _GNU_SOURCE
        #include <errno.h>
        #include <fcntl.h>
        #include <signal.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        #include <sys/ioctl.h>
        #include <sys/resource.h>
        #include <sys/stat.h>
        #include <sys/syscall.h>
        #include <sys/time.h>
        #include <sys/times.h>
        #include <sys/types.h>
        #include <time.h>

        #ifndef AT_EMPTY_PATH
        #define AT_EMPTY_PATH 0x1000
        #endif

        static const char *errname(int e)
        {
            switch (e) {
        #define E(x) case x: return #x;
            E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
            E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
            E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS)
            E(EMLINK) E(EPIPE) E(ERANGE) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(EOPNOTSUPP)
            E(EOVERFLOW) E(ENOTSOCK) E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT) E(EAFNOSUPPORT) E(EADDRINUSE)
            E(ECONNRESET) E(EISCONN) E(ENOTCONN) E(ECONNREFUSED) E(ESOCKTNOSUPPORT) E(EPROTONOSUPPORT) E(EDOM)
        #undef E
            default: { static char b[32]; snprintf(b, sizeof b, "errno%d", e); return b; }
            }
        }

        /* CHECK prints the call, its result and, on failure, the errno name. */
        #define CHECK(expr) do { errno = 0; long r_ = (long)(expr); int e_ = errno; \
            if (r_ < 0) printf("%s = %ld %s\n", #expr, r_, errname(e_)); \
            else printf("%s = %ld\n", #expr, r_); } while (0)

        /* OK prints only whether the call succeeded, for results that differ between runs. */
        #define OK(expr) do { errno = 0; long r_ = (long)(expr); int e_ = errno; \
            if (r_ < 0) printf("%s -> %s\n", #expr, errname(e_)); else printf("%s -> ok\n", #expr); } while (0)

        #define SAY(...) printf(__VA_ARGS__)

        /* An address nothing is mapped at. */
        #define WILD ((void *)1)

        /* Only stdio is open when main starts, whatever the parent leaked (fd numbers are compared). */
        __attribute__((constructor)) static void only_stdio(void)
        {
            for (int fd = 3; fd < 1024; fd++) close(fd);
        }
        """;

    /// <summary>struct statx as programs that call statx(2) through syscall() declare it (<c>struct sx</c>).</summary>
    public const string StatxStruct = """
        /* struct statx (linux/stat.h), spelt out: musl's headers may lack it. */
        struct xts { long long tv_sec; unsigned tv_nsec; int reserved; };
        struct sx {
            unsigned stx_mask, stx_blksize; unsigned long long stx_attributes;
            unsigned stx_nlink, stx_uid, stx_gid; unsigned short stx_mode, spare0;
            unsigned long long stx_ino, stx_size, stx_blocks, stx_attributes_mask;
            struct xts stx_atime, stx_btime, stx_ctime, stx_mtime;
            unsigned stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
            unsigned long long stx_mnt_id;
            unsigned long long spare[13];
        };

        """;

    /// <summary>Builds <paramref name="source"/> (after the prelude) and asserts umos behaves as the host kernel.</summary>
    public static RunResult AssertSameAsNative(string source, string compiler) =>
        Compare.AssertSameAsNative([CProgram.Compile(Prelude + "\n" + source, compiler)], compareStderr: true);
}
