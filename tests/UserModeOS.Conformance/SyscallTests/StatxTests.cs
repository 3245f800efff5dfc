namespace UserModeOS.Conformance.SyscallTests;

/// <summary>
/// statx(2) field by field: on the host folder (a file, a symlink with and without
/// AT_SYMLINK_NOFOLLOW, a directory, an fd), on mount roots ("/", a tmpfs /dev/shm, /proc) and
/// on a tmpfs file. What differs between machines by nature (mount ids, the device numbers of
/// our tmpfs) is printed as a relation: the mount id against /proc/self/mountinfo, the device
/// against stat(2), the birth time against the modification time.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class StatxTests(string compiler)
{
    [Test]
    public void StatxFields() => SyscallPrograms.AssertSameAsNative(SyscallPrograms.StatxStruct + Source, compiler);

    private const string Source = """
        #include <sys/sysmacros.h>

        #define X_BASIC 0x7ffu
        #define X_BTIME 0x800u
        #define X_MNT_ID 0x1000u
        #define X_MNT_ID_UNIQUE 0x4000u
        #define X_WANT (X_BASIC | X_BTIME | X_MNT_ID)
        #define A_MOUNT_ROOT 0x2000ull
        #define SYNC_FORCE 0x2000
        #define SYNC_DONT 0x4000

        static long sx(int dirfd, const char *path, int flags, unsigned mask, struct sx *s)
        {
            memset(s, 0xa5, sizeof *s);
            return syscall(SYS_statx, dirfd, path, flags, mask, s);
        }

        /* The id of the mount holding absolute path p: the latest mountinfo line on its longest mounted prefix. */
        static long mount_id_of(const char *p)
        {
            FILE *f = fopen("/proc/self/mountinfo", "r");
            char line[4096], point[4096];
            long id, best = -1;
            size_t bestlen = 0;
            while (f && fgets(line, sizeof line, f)) {
                if (sscanf(line, "%ld %*d %*s %*s %4095s", &id, point) != 2) continue;
                size_t n = strlen(point);
                int under = strcmp(point, "/") == 0 || (strncmp(p, point, n) == 0 && (p[n] == '/' || p[n] == 0));
                if (under && (n >= bestlen || best < 0)) { best = id; bestlen = n; }
            }
            if (f) fclose(f);
            return best;
        }

        static const char *absolute(const char *p)
        {
            static char b[8192];
            if (p[0] == '/') return p;
            char cwd[4096];
            getcwd(cwd, sizeof cwd);
            snprintf(b, sizeof b, "%s/%s", cwd, p);
            return b;
        }

        static int same_time(struct xts x, struct timespec t) { return x.tv_sec == t.tv_sec && x.tv_nsec == (unsigned)t.tv_nsec; }

        /* Everything statx says about a file, against stat(2) and mountinfo; host values where both runs see the same file. */
        static void show(const char *what, int dirfd, const char *path, int flags, int host)
        {
            struct sx s;
            struct stat st;
            CHECK(sx(dirfd, path, flags, X_WANT, &s));
            if (flags & AT_EMPTY_PATH) fstat(dirfd, &st);
            else if (flags & AT_SYMLINK_NOFOLLOW) lstat(path, &st);
            else stat(path, &st);
            SAY("%s: mask %#x type %o perm %o nlink-same %d uid %u gid %u ino-same %d size-same %d blocks-same %d\n", what,
                s.stx_mask & X_WANT, s.stx_mode & S_IFMT, s.stx_mode & 07777, s.stx_nlink == st.st_nlink, s.stx_uid, s.stx_gid,
                s.stx_ino == st.st_ino, s.stx_size == (unsigned long long)st.st_size, s.stx_blocks == (unsigned long long)st.st_blocks);
            SAY("%s: blksize %u dev-same %d rdev %u:%u atime-same %d mtime-same %d ctime-same %d\n", what,
                s.stx_blksize, makedev(s.stx_dev_major, s.stx_dev_minor) == st.st_dev, s.stx_rdev_major, s.stx_rdev_minor,
                same_time(s.stx_atime, st.st_atim), same_time(s.stx_mtime, st.st_mtim), same_time(s.stx_ctime, st.st_ctim));
            SAY("%s: mount root %d attributes-mask %#llx attributes %#llx\n", what,
                (s.stx_attributes & A_MOUNT_ROOT) != 0, s.stx_attributes_mask, s.stx_attributes);
            if (s.stx_mask & X_BTIME)
                SAY("%s: btime <= mtime: %d\n", what, s.stx_btime.tv_sec < s.stx_mtime.tv_sec ||
                    (s.stx_btime.tv_sec == s.stx_mtime.tv_sec && s.stx_btime.tv_nsec <= s.stx_mtime.tv_nsec));
            if (host)
                SAY("%s: dev %u:%u\n", what, s.stx_dev_major, s.stx_dev_minor);
            if (!(flags & AT_EMPTY_PATH))
                SAY("%s: mnt_id matches mountinfo line for this mount: %d\n", what, (long)s.stx_mnt_id == mount_id_of(absolute(path)));
        }

        int main(void)
        {
            umask(022);
            int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0640);
            CHECK(write(fd, "hello world\n", 12));
            CHECK(symlink("f", "lnk"));
            CHECK(mkdir("d", 0750));
            int shm = open("/dev/shm", O_RDONLY | O_DIRECTORY);
            char tname[64];
            snprintf(tname, sizeof tname, "statx-%d", (int)getpid());
            int tfd = openat(shm, tname, O_RDWR | O_CREAT | O_EXCL, 0600);
            CHECK(write(tfd, "hi", 2));
            char tpath[128];
            snprintf(tpath, sizeof tpath, "/dev/shm/%s", tname);

            show("f", AT_FDCWD, "f", 0, 1);
            show("lnk nofollow", AT_FDCWD, "lnk", AT_SYMLINK_NOFOLLOW, 1);
            show("lnk", AT_FDCWD, "lnk", 0, 1);
            show("d", AT_FDCWD, "d", 0, 1);
            show("fd of f", fd, "", AT_EMPTY_PATH, 1);
            show("/", AT_FDCWD, "/", 0, 1);
            show("/dev/shm", AT_FDCWD, "/dev/shm", 0, 0);
            show("fd of /dev/shm", shm, "", AT_EMPTY_PATH, 0);
            show("tmpfs file", AT_FDCWD, tpath, 0, 0);
            show("/dev/null", AT_FDCWD, "/dev/null", 0, 0);
            show("/proc", AT_FDCWD, "/proc", 0, 0);

            /* The birth time is filled only when asked for; the mount id always. */
            struct sx a, b;
            CHECK(sx(AT_FDCWD, "f", 0, X_BASIC, &a));
            SAY("basic only: btime %#x mnt_id %#x btime zero %d\n", a.stx_mask & X_BTIME, a.stx_mask & X_MNT_ID,
                a.stx_btime.tv_sec == 0 && a.stx_btime.tv_nsec == 0);
            CHECK(sx(AT_FDCWD, tpath, 0, X_BASIC, &a));
            SAY("tmpfs basic only: btime %#x\n", a.stx_mask & X_BTIME);
            CHECK(sx(AT_FDCWD, tpath, 0, X_BASIC | X_BTIME, &a));
            SAY("tmpfs btime present: %d nonzero %d\n", (a.stx_mask & X_BTIME) != 0, a.stx_btime.tv_sec > 0);

            /* STATX_MNT_ID_UNIQUE replaces STATX_MNT_ID: one id per mount. */
            CHECK(sx(AT_FDCWD, "f", 0, X_BASIC | X_MNT_ID_UNIQUE, &a));
            SAY("unique: mask %#x\n", a.stx_mask & (X_MNT_ID | X_MNT_ID_UNIQUE));
            CHECK(sx(AT_FDCWD, "d", 0, X_BASIC | X_MNT_ID_UNIQUE, &b));
            SAY("unique id same for f and d: %d\n", a.stx_mnt_id == b.stx_mnt_id);
            CHECK(sx(AT_FDCWD, "/proc", 0, X_BASIC | X_MNT_ID_UNIQUE, &b));
            SAY("unique id differs for /proc: %d nonzero %d\n", a.stx_mnt_id != b.stx_mnt_id, a.stx_mnt_id != 0);

            /* AT_EMPTY_PATH with a NULL path (Linux 6.11), the sync flags, bad arguments. */
            CHECK(sx(fd, NULL, AT_EMPTY_PATH, X_WANT, &a));
            CHECK(sx(AT_FDCWD, "f", 0, X_WANT, &b));
            SAY("NULL path is the fd: %d\n", a.stx_ino == b.stx_ino && a.stx_mnt_id == b.stx_mnt_id);
            CHECK(sx(AT_FDCWD, "", AT_EMPTY_PATH, X_WANT, &a));
            CHECK(sx(AT_FDCWD, ".", 0, X_WANT, &b));
            SAY("empty path at AT_FDCWD is the cwd: %d\n", a.stx_ino == b.stx_ino);
            CHECK(sx(AT_FDCWD, "f", SYNC_FORCE, X_WANT, &a));
            CHECK(sx(AT_FDCWD, "f", SYNC_DONT, X_WANT, &a));
            CHECK(sx(AT_FDCWD, "f", SYNC_FORCE | SYNC_DONT, X_WANT, &a));
            CHECK(sx(AT_FDCWD, "f", 0, 0x80000000u, &a));
            CHECK(sx(AT_FDCWD, "f", 0x1, X_WANT, &a));
            CHECK(sx(AT_FDCWD, "missing", 0, X_WANT, &a));
            CHECK(sx(AT_FDCWD, "f/x", 0, X_WANT, &a));
            CHECK(sx(AT_FDCWD, "lnk/", 0, X_WANT, &a));
            CHECK(sx(999, "f", 0, X_WANT, &a));
            CHECK(syscall(SYS_statx, AT_FDCWD, "f", 0, X_WANT, WILD));

            unlink(tpath);
            unlink("lnk");
            unlink("f");
            rmdir("d");
            return 0;
        }
        """;
}
