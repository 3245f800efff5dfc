using UserModeOS.Conformance.SyscallTests;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// openat2(2) compared with the host kernel: struct open_how size checks, strict flag checks,
/// and each RESOLVE_* flag (BENEATH, IN_ROOT, NO_SYMLINKS, NO_MAGICLINKS, NO_XDEV, CACHED).
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class Openat2Tests(string compiler)
{
    [Test]
    public void Openat2LikeLinux() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        #include <stdint.h>

        struct how { uint64_t flags, mode, resolve; };
        #define R_NO_XDEV 0x01
        #define R_NO_MAGICLINKS 0x02
        #define R_NO_SYMLINKS 0x04
        #define R_BENEATH 0x08
        #define R_IN_ROOT 0x10
        #define R_CACHED 0x20

        static long o2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
        {
            struct how h = { flags, mode, resolve };
            return syscall(437, dirfd, path, &h, sizeof h);
        }

        /* Opens, reports success or the errno, and what the file holds. */
        static void try(const char *what, int dirfd, const char *path, uint64_t flags, uint64_t resolve)
        {
            long fd = o2(dirfd, path, flags, 0, resolve);
            if (fd < 0) { SAY("%s %s: %s\n", what, path, errname(errno)); return; }
            char buf[64] = {0};
            long n = (flags & O_PATH) ? 0 : read(fd, buf, sizeof buf - 1);
            char link[512] = {0}, self[64];
            snprintf(self, sizeof self, "/proc/self/fd/%ld", fd);
            readlink(self, link, sizeof link - 1);
            const char *last = strrchr(link, '/');
            SAY("%s %s: ok, read %ld %s%s", what, path, n, n > 0 ? buf : "", n > 0 ? "" : "\n");
            SAY("  fd path ends in /%s\n", last ? last + 1 : link);
            close(fd);
        }

        int main(void)
        {
            mkdir("d", 0755);
            mkdir("d/sub", 0755);
            int fd = open("d/f", O_WRONLY | O_CREAT | O_TRUNC, 0644); write(fd, "in d\n", 5); close(fd);
            fd = open("outside", O_WRONLY | O_CREAT | O_TRUNC, 0644); write(fd, "outside\n", 8); close(fd);
            symlink("f", "d/rel");
            symlink("/f", "d/abs");
            symlink("../outside", "d/up");
            symlink("../f", "d/sub/dotdot");
            int d = open("d", O_PATH | O_DIRECTORY);

            /* struct open_how size and content checks */
            struct { struct how h; uint64_t extra; } big = { { O_RDONLY, 0, 0 }, 0 };
            CHECK(syscall(437, d, "f", &big, 0));
            CHECK(syscall(437, d, "f", &big, 23));
            CHECK(syscall(437, d, "f", &big, 4097));
            long r = syscall(437, d, "f", &big, sizeof big); SAY("size 32, zero tail: %s\n", r >= 0 ? "ok" : errname(errno)); if (r >= 0) close(r);
            big.extra = 1;
            CHECK(syscall(437, d, "f", &big, sizeof big));
            CHECK(syscall(437, d, "f", WILD, 24));
            CHECK(o2(d, "f", 1ULL << 40, 0, 0));
            CHECK(o2(d, "f", O_RDONLY, 0644, 0));
            CHECK(o2(d, "f", O_RDONLY, 0, 0x40));
            CHECK(o2(d, "f", O_RDONLY, 0, R_BENEATH | R_IN_ROOT));
            CHECK(o2(d, "f", O_PATH | O_RDWR, 0, 0));
            CHECK(o2(d, "new", O_WRONLY | O_CREAT, 010000, 0));
            CHECK(o2(d, "missing", O_RDONLY, 0, 0));
            CHECK(o2(-5, "f", O_RDONLY, 0, 0));

            try("plain", d, "f", O_RDONLY, 0);
            try("plain", AT_FDCWD, "d/abs", O_RDONLY, 0);

            try("beneath", d, "f", O_RDONLY, R_BENEATH);
            try("beneath", d, "rel", O_RDONLY, R_BENEATH);
            try("beneath", d, "sub/dotdot", O_RDONLY, R_BENEATH);
            try("beneath", d, "sub/../f", O_RDONLY, R_BENEATH);
            try("beneath", d, "abs", O_RDONLY, R_BENEATH);
            try("beneath", d, "up", O_RDONLY, R_BENEATH);
            try("beneath", d, "../outside", O_RDONLY, R_BENEATH);
            try("beneath", d, "/etc/hostname", O_RDONLY, R_BENEATH);
            try("beneath", d, ".", O_RDONLY | O_DIRECTORY, R_BENEATH);
            try("beneath", d, "..", O_RDONLY | O_DIRECTORY, R_BENEATH);

            try("in_root", d, "abs", O_RDONLY, R_IN_ROOT);
            try("in_root", d, "up", O_RDONLY, R_IN_ROOT);
            try("in_root", d, "/f", O_RDONLY, R_IN_ROOT);
            try("in_root", d, "../../../f", O_RDONLY, R_IN_ROOT);
            try("in_root", d, "/sub/dotdot", O_RDONLY, R_IN_ROOT);
            try("in_root", d, "/", O_RDONLY | O_DIRECTORY, R_IN_ROOT);
            try("in_root", AT_FDCWD, "d/abs", O_RDONLY, R_IN_ROOT);

            try("no_symlinks", d, "f", O_RDONLY, R_NO_SYMLINKS);
            try("no_symlinks", d, "rel", O_RDONLY, R_NO_SYMLINKS);
            try("no_symlinks", d, "rel", O_PATH | O_NOFOLLOW, R_NO_SYMLINKS);
            try("no_symlinks", d, "sub/dotdot", O_RDONLY, R_NO_SYMLINKS);

            int self = open("outside", O_RDONLY);
            char magic[64];
            snprintf(magic, sizeof magic, "/proc/self/fd/%d", self);
            try("no_magiclinks", AT_FDCWD, magic, O_RDONLY, R_NO_MAGICLINKS);
            try("no_magiclinks", AT_FDCWD, "/proc/self/cwd/outside", O_RDONLY, R_NO_MAGICLINKS);
            try("no_magiclinks", d, "rel", O_RDONLY, R_NO_MAGICLINKS);
            try("magic", AT_FDCWD, magic, O_RDONLY, 0);
            try("no_symlinks", AT_FDCWD, magic, O_RDONLY, R_NO_SYMLINKS);

            try("no_xdev", d, "f", O_RDONLY, R_NO_XDEV);
            try("no_xdev", AT_FDCWD, "/proc/self/comm", O_RDONLY, R_NO_XDEV);
            int proc = open("/proc/self", O_PATH | O_DIRECTORY);
            try("no_xdev", proc, "comm", O_RDONLY, R_NO_XDEV);
            try("no_xdev", proc, "../../", O_RDONLY | O_DIRECTORY, R_NO_XDEV);
            try("no_xdev", proc, "cwd/outside", O_RDONLY, R_NO_XDEV);
            try("no_xdev", AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, R_NO_XDEV);

            CHECK(o2(d, "f", O_RDONLY | O_CREAT, 0644, R_CACHED));
            CHECK(o2(d, "f", O_WRONLY | O_TRUNC, 0, R_CACHED));
            r = o2(d, "f", O_RDONLY, 0, R_CACHED);
            SAY("cached f: %s\n", r >= 0 || errno == EAGAIN ? "ok or EAGAIN" : errname(errno));

            fd = o2(d, "made", O_WRONLY | O_CREAT | O_EXCL, 0640, R_BENEATH);
            SAY("create beneath: %s\n", fd >= 0 ? "ok" : errname(errno));
            struct stat st;
            if (fd >= 0) { close(fd); stat("d/made", &st); SAY("made mode %o\n", st.st_mode & 07777); }
            CHECK(o2(d, "../escaped", O_WRONLY | O_CREAT, 0644, R_BENEATH));
            CHECK(access("escaped", F_OK));
            return 0;
        }
        """;
}
