namespace UserModeOS.Conformance.SyscallTests;

/// <summary>stat(2), lstat(2), fstat(2), newfstatat(2), statx(2), access(2)/faccessat(2)/faccessat2(2), chmod(2), chown(2), truncate(2) and utimensat(2).</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class FileStatTests(string compiler)
{
    [Test]
    public void StatAccessAttributes() => SyscallPrograms.AssertSameAsNative(SyscallPrograms.StatxStruct + Source, compiler);

    private const string Source = """
        #include <sys/sysmacros.h>

        #define X_TYPE 0x1u
        #define X_BASIC 0x7ffu

        static void clean(void)
        {
            chmod("ro", 0644); unlink("ro"); unlink("f"); unlink("lnk"); unlink("dangling"); unlink("d/x"); rmdir("d");
        }

        static void show(const char *what, const struct stat *st)
        {
            SAY("%s: type %o perm %o nlink %ld size %ld uid %d gid %d blksize>0 %d\n", what,
                st->st_mode & S_IFMT, st->st_mode & 07777, (long)st->st_nlink, (long)st->st_size,
                st->st_uid, st->st_gid, st->st_blksize > 0);
        }

        int main(void)
        {
            clean();
            umask(022);
            int fd = open("f", O_RDWR | O_CREAT, 0640);
            CHECK(write(fd, "hello world\n", 12));
            CHECK(symlink("f", "lnk"));
            CHECK(symlink("nowhere", "dangling"));
            CHECK(mkdir("d", 0750));

            struct stat a, b, c;
            CHECK(syscall(SYS_stat, "f", &a));
            show("stat f", &a);
            CHECK(syscall(SYS_fstat, fd, &b));
            show("fstat f", &b);
            SAY("same inode/dev: %d\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
            CHECK(syscall(SYS_stat, "lnk", &c));
            SAY("stat follows: %d\n", c.st_ino == a.st_ino);
            CHECK(syscall(SYS_lstat, "lnk", &c));
            show("lstat lnk", &c);
            CHECK(syscall(SYS_stat, "dangling", &c));
            CHECK(syscall(SYS_lstat, "dangling", &c));
            CHECK(syscall(SYS_stat, "d", &c));
            show("stat d", &c);
            CHECK(syscall(SYS_stat, "d/", &c));
            CHECK(syscall(SYS_stat, "f/", &c));
            CHECK(syscall(SYS_stat, "missing", &c));
            CHECK(syscall(SYS_stat, "", &c));
            CHECK(syscall(SYS_stat, WILD, &c));
            CHECK(syscall(SYS_stat, "f", WILD));
            CHECK(syscall(SYS_lstat, "f", WILD));
            CHECK(syscall(SYS_fstat, fd, WILD));
            CHECK(syscall(SYS_fstat, 999, &c));
            CHECK(syscall(SYS_fstat, -1, &c));
            CHECK(syscall(SYS_stat, "/", &c));
            SAY("/ is a directory: %d\n", S_ISDIR(c.st_mode));
            CHECK(syscall(SYS_stat, "/dev/null", &c));
            SAY("/dev/null: char %d rdev %d:%d\n", S_ISCHR(c.st_mode), major(c.st_rdev), minor(c.st_rdev));

            /* newfstatat */
            int d = open("d", O_RDONLY | O_DIRECTORY);
            int dot = open(".", O_RDONLY | O_DIRECTORY);
            CHECK(syscall(SYS_newfstatat, AT_FDCWD, "f", &c, 0));
            SAY("same: %d\n", c.st_ino == a.st_ino);
            CHECK(syscall(SYS_newfstatat, AT_FDCWD, "lnk", &c, AT_SYMLINK_NOFOLLOW));
            SAY("symlink: %d\n", S_ISLNK(c.st_mode));
            CHECK(syscall(SYS_newfstatat, fd, "", &c, AT_EMPTY_PATH));
            SAY("empty path is the fd: %d\n", c.st_ino == a.st_ino);
            CHECK(syscall(SYS_newfstatat, AT_FDCWD, "", &c, AT_EMPTY_PATH));
            struct stat cwd;
            stat(".", &cwd);
            SAY("empty path at AT_FDCWD is the cwd: %d\n", c.st_ino == cwd.st_ino);
            CHECK(syscall(SYS_newfstatat, fd, "", &c, 0));
            CHECK(syscall(SYS_newfstatat, fd, "x", &c, 0));
            CHECK(syscall(SYS_newfstatat, 999, "x", &c, 0));
            CHECK(syscall(SYS_newfstatat, 999, "/", &c, 0));
            CHECK(syscall(SYS_newfstatat, dot, "f", &c, 0));
            CHECK(syscall(SYS_newfstatat, d, "..", &c, 0));
            SAY("d/.. is the cwd: %d\n", c.st_ino == cwd.st_ino);
            CHECK(syscall(SYS_newfstatat, AT_FDCWD, "f", &c, 0x8000000));
            CHECK(syscall(SYS_newfstatat, 999, "", &c, AT_EMPTY_PATH));

            /* statx */
            struct sx sx;
            memset(&sx, 0xff, sizeof sx);
            CHECK(syscall(SYS_statx, AT_FDCWD, "f", 0, X_BASIC, &sx));
            SAY("statx basic %#x mode %o nlink %u size %llu blocks-ok %d ino-same %d dev-same %d mtime-same %d\n",
                sx.stx_mask & X_BASIC, sx.stx_mode, sx.stx_nlink, (unsigned long long)sx.stx_size,
                sx.stx_blocks == (unsigned long long)a.st_blocks, sx.stx_ino == a.st_ino,
                makedev(sx.stx_dev_major, sx.stx_dev_minor) == a.st_dev,
                sx.stx_mtime.tv_sec == a.st_mtim.tv_sec && sx.stx_mtime.tv_nsec == a.st_mtim.tv_nsec);
            CHECK(syscall(SYS_statx, AT_FDCWD, "lnk", AT_SYMLINK_NOFOLLOW, X_BASIC, &sx));
            SAY("statx lnk mode type %o\n", sx.stx_mode & S_IFMT);
            CHECK(syscall(SYS_statx, fd, "", AT_EMPTY_PATH, X_TYPE, &sx));
            SAY("statx fd type %o\n", sx.stx_mode & S_IFMT);
            CHECK(syscall(SYS_statx, AT_FDCWD, "/dev/null", 0, X_BASIC, &sx));
            SAY("statx /dev/null rdev %u:%u\n", sx.stx_rdev_major, sx.stx_rdev_minor);
            CHECK(syscall(SYS_statx, AT_FDCWD, "missing", 0, X_BASIC, &sx));
            CHECK(syscall(SYS_statx, AT_FDCWD, "f", 0, X_BASIC, WILD));
            CHECK(syscall(SYS_statx, AT_FDCWD, WILD, 0, X_BASIC, &sx));
            CHECK(syscall(SYS_statx, AT_FDCWD, "f", 0x6000, X_BASIC, &sx));
            CHECK(syscall(SYS_statx, AT_FDCWD, "f", 0x40000000, X_BASIC, &sx));
            CHECK(syscall(SYS_statx, AT_FDCWD, "f", 0, 0x80000000u, &sx));
            CHECK(syscall(SYS_statx, 999, "f", 0, X_BASIC, &sx));
            CHECK(syscall(SYS_statx, 999, "", AT_EMPTY_PATH, X_BASIC, &sx));

            /* access family */
            CHECK(syscall(SYS_access, "f", F_OK));
            CHECK(syscall(SYS_access, "f", R_OK | W_OK));
            CHECK(syscall(SYS_access, "f", X_OK));
            CHECK(syscall(SYS_access, "d", X_OK));
            CHECK(syscall(SYS_access, "missing", F_OK));
            CHECK(syscall(SYS_access, "f", 8));
            CHECK(syscall(SYS_access, WILD, F_OK));
            CHECK(syscall(SYS_access, "dangling", F_OK));
            CHECK(syscall(SYS_access, "f/", F_OK));
            CHECK(syscall(SYS_faccessat, dot, "f", R_OK));
            CHECK(syscall(SYS_faccessat, fd, "f", R_OK));
            CHECK(syscall(SYS_faccessat, 999, "f", R_OK));
            CHECK(syscall(SYS_faccessat, 999, "/", R_OK));
            CHECK(syscall(SYS_faccessat2, AT_FDCWD, "f", R_OK, AT_EACCESS));
            CHECK(syscall(SYS_faccessat2, AT_FDCWD, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
            CHECK(syscall(SYS_faccessat2, AT_FDCWD, "dangling", F_OK, 0));
            CHECK(syscall(SYS_faccessat2, AT_FDCWD, "f", F_OK, 0x1));
            CHECK(syscall(SYS_faccessat2, AT_FDCWD, "f", 0x10, 0));
            CHECK(syscall(SYS_faccessat2, fd, "", R_OK, AT_EMPTY_PATH));
            CHECK(syscall(SYS_faccessat2, fd, "", R_OK, 0));

            /* chmod, chown, truncate, utimensat */
            CHECK(syscall(SYS_chmod, "f", 0600));
            CHECK(syscall(SYS_stat, "f", &c));
            SAY("perm %o\n", c.st_mode & 07777);
            CHECK(syscall(SYS_fchmod, fd, 04755));
            CHECK(syscall(SYS_stat, "f", &c));
            SAY("perm %o\n", c.st_mode & 07777);
            CHECK(syscall(SYS_fchmodat, dot, "f", 0640));
            CHECK(syscall(SYS_chmod, "missing", 0600));
            CHECK(syscall(SYS_fchmod, 999, 0600));
            CHECK(syscall(SYS_chown, "f", -1, -1));
            CHECK(syscall(SYS_fchown, fd, 0, 0));
            CHECK(syscall(SYS_lchown, "lnk", -1, -1));
            CHECK(syscall(SYS_fchownat, AT_FDCWD, "f", -1, -1, 0x4000));
            CHECK(syscall(SYS_truncate, "f", 5));
            CHECK(syscall(SYS_fstat, fd, &c));
            SAY("size %ld\n", (long)c.st_size);
            CHECK(syscall(SYS_truncate, "f", -1L));
            CHECK(syscall(SYS_truncate, "d", 0));
            CHECK(syscall(SYS_truncate, "missing", 0));
            CHECK(syscall(SYS_ftruncate, fd, 100));
            CHECK(syscall(SYS_fstat, fd, &c));
            SAY("size %ld\n", (long)c.st_size);
            CHECK(syscall(SYS_ftruncate, fd, -1L));
            CHECK(syscall(SYS_ftruncate, d, 0));
            CHECK(syscall(SYS_ftruncate, 999, 0));
            int ro = open("f", O_RDONLY);
            CHECK(syscall(SYS_ftruncate, ro, 0));
            struct timespec ts[2] = { { 1000000000, 5 }, { 1200000000, 999999999 } };
            CHECK(syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0));
            CHECK(syscall(SYS_stat, "f", &c));
            SAY("atime %ld.%09ld mtime %ld.%09ld\n", (long)c.st_atim.tv_sec, c.st_atim.tv_nsec, (long)c.st_mtim.tv_sec, c.st_mtim.tv_nsec);
            ts[0].tv_nsec = UTIME_OMIT;
            ts[1].tv_sec = 1300000000;
            ts[1].tv_nsec = 0;
            CHECK(syscall(SYS_utimensat, fd, NULL, ts, 0));
            CHECK(syscall(SYS_stat, "f", &c));
            SAY("atime %ld mtime %ld\n", (long)c.st_atim.tv_sec, (long)c.st_mtim.tv_sec);
            ts[0].tv_nsec = 1000000000;
            CHECK(syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0));
            CHECK(syscall(SYS_utimensat, AT_FDCWD, "f", WILD, 0));
            CHECK(syscall(SYS_utimensat, AT_FDCWD, "missing", NULL, 0));
            CHECK(syscall(SYS_utimensat, AT_FDCWD, "f", NULL, 0x2));
            CHECK(syscall(SYS_utimensat, AT_FDCWD, NULL, NULL, 0));
            CHECK(syscall(SYS_utimensat, 999, NULL, NULL, 0));
            CHECK(syscall(SYS_utimensat, AT_FDCWD, "f", NULL, 0));
            CHECK(syscall(SYS_stat, "f", &c));
            SAY("mtime is recent: %d\n", c.st_mtim.tv_sec > 1600000000);

            clean();
            return 0;
        }
        """;
}
