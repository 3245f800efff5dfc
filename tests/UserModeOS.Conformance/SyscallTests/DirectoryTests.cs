namespace UserModeOS.Conformance.SyscallTests;

/// <summary>getcwd(2), chdir(2), fchdir(2), getdents64(2), readlink(2) (with /proc/self/exe and /proc/self/fd), mkdir(2), unlink(2), rmdir(2), rename(2), symlink(2) and link(2).</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class DirectoryTests(string compiler)
{
    [Test]
    public void DirectoryCalls() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        #include <dirent.h>
        #include <limits.h>

        struct linux_dirent64 {
            unsigned long long d_ino;
            long long d_off;
            unsigned short d_reclen;
            unsigned char d_type;
            char d_name[];
        };

        static void clean(void)
        {
            unlink("t/a"); unlink("t/b"); unlink("t/c"); unlink("t/lnk"); unlink("t/hard"); rmdir("t/sub/deeper");
            rmdir("t/sub"); rmdir("t/sub2"); rmdir("t/moved"); unlink("t/f"); rmdir("t");
        }

        static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

        /* Lists a directory with raw getdents64, sorted (the order is the filesystem's). */
        static void list(int fd, size_t bufsize)
        {
            char *names[64];
            int n = 0;
            char buf[4096];
            long got;
            while ((got = syscall(SYS_getdents64, fd, buf, bufsize)) > 0) {
                for (long off = 0; off < got;) {
                    struct linux_dirent64 *d = (void *)(buf + off);
                    if (n < 64) names[n++] = strdup(d->d_name);
                    off += d->d_reclen;
                }
            }
            if (got < 0) SAY("getdents64 -> %s\n", errname(errno));
            qsort(names, n, sizeof names[0], cmp);
            SAY("entries:");
            for (int i = 0; i < n; i++) { SAY(" %s", names[i]); free(names[i]); }
            SAY("\n");
        }

        int main(int argc, char **argv)
        {
            clean();
            umask(022);
            char start[PATH_MAX], buf[PATH_MAX];
            CHECK(syscall(SYS_getcwd, start, sizeof start) == (long)strlen(start) + 1);

            /* mkdir */
            CHECK(syscall(SYS_mkdir, "t", 0777));
            CHECK(syscall(SYS_mkdir, "t", 0777));
            CHECK(syscall(SYS_mkdir, "t/sub/", 0700));
            CHECK(syscall(SYS_mkdir, "missing/sub", 0700));
            CHECK(syscall(SYS_mkdir, WILD, 0700));
            CHECK(syscall(SYS_mkdir, "", 0700));
            CHECK(syscall(SYS_mkdir, "/", 0700));
            int t = open("t", O_RDONLY | O_DIRECTORY);
            CHECK(syscall(SYS_mkdirat, t, "sub2", 01777));
            CHECK(syscall(SYS_mkdirat, 999, "sub2", 0777));
            struct stat st;
            stat("t/sub2", &st);
            SAY("sub2 perm %o\n", st.st_mode & 07777);
            stat("t", &st);
            SAY("t perm %o\n", st.st_mode & 07777);
            umask(0);
            CHECK(syscall(SYS_mkdirat, AT_FDCWD, "t/sub/deeper", 0777));
            stat("t/sub/deeper", &st);
            SAY("deeper perm %o\n", st.st_mode & 07777);
            umask(022);

            /* getcwd, chdir, fchdir */
            CHECK(syscall(SYS_chdir, "t/sub"));
            CHECK(syscall(SYS_getcwd, buf, sizeof buf) == (long)strlen(buf) + 1);
            SAY("ends with /t/sub: %d\n", strlen(buf) > 6 && strcmp(buf + strlen(buf) - 6, "/t/sub") == 0);
            long len = strlen(buf) + 1;
            CHECK(syscall(SYS_getcwd, buf, len) == len);
            CHECK(syscall(SYS_getcwd, buf, len - 1));
            CHECK(syscall(SYS_getcwd, buf, 0));
            CHECK(syscall(SYS_getcwd, WILD, sizeof buf));
            CHECK(syscall(SYS_chdir, ".."));
            CHECK(syscall(SYS_chdir, "missing"));
            CHECK(syscall(SYS_chdir, WILD));
            CHECK(syscall(SYS_chdir, ""));
            int f = open("f", O_WRONLY | O_CREAT, 0644);
            CHECK(syscall(SYS_chdir, "f"));
            CHECK(syscall(SYS_fchdir, f));
            CHECK(syscall(SYS_fchdir, 999));
            CHECK(syscall(SYS_chdir, "sub/deeper/../.."));
            getcwd(buf, sizeof buf);
            SAY("back in t: %d\n", strcmp(buf + strlen(buf) - 2, "/t") == 0);
            CHECK(syscall(SYS_chdir, start));
            CHECK(syscall(SYS_fchdir, t));
            getcwd(buf, sizeof buf);
            SAY("fchdir to t: %d\n", strcmp(buf + strlen(buf) - 2, "/t") == 0);
            CHECK(access("f", F_OK));
            int p = open("sub", O_PATH);
            CHECK(syscall(SYS_fchdir, p));
            CHECK(access("deeper", F_OK));
            CHECK(syscall(SYS_chdir, start));

            /* getdents64 */
            close(open("t/a", O_WRONLY | O_CREAT, 0644));
            close(open("t/b", O_WRONLY | O_CREAT, 0644));
            int d = open("t", O_RDONLY | O_DIRECTORY);
            list(d, sizeof buf);
            CHECK(lseek(d, 0, SEEK_SET));
            list(d, 64);
            CHECK(lseek(d, 0, SEEK_SET));
            CHECK(syscall(SYS_getdents64, d, buf, 1));
            CHECK(syscall(SYS_getdents64, d, WILD, 4096));
            list(d, sizeof buf);
            CHECK(syscall(SYS_getdents64, d, buf, sizeof buf));
            CHECK(syscall(SYS_getdents64, 999, buf, sizeof buf));
            CHECK(syscall(SYS_getdents64, f, buf, sizeof buf));
            CHECK(syscall(SYS_getdents64, p, buf, sizeof buf));

            /* symlink, readlink */
            CHECK(syscall(SYS_symlink, "a", "t/lnk"));
            CHECK(syscall(SYS_symlink, "a", "t/lnk"));
            CHECK(syscall(SYS_symlink, "", "t/empty"));
            CHECK(syscall(SYS_symlink, WILD, "t/x"));
            CHECK(syscall(SYS_symlinkat, "../elsewhere", t, "c"));
            memset(buf, 'Z', 16);
            CHECK(syscall(SYS_readlink, "t/lnk", buf, sizeof buf));
            SAY("[%.2s]\n", buf);
            memset(buf, 'Z', 16);
            CHECK(syscall(SYS_readlinkat, t, "c", buf, 5));
            SAY("[%.8s]\n", buf);
            CHECK(syscall(SYS_readlink, "t/a", buf, sizeof buf));
            CHECK(syscall(SYS_readlink, "t/missing", buf, sizeof buf));
            CHECK(syscall(SYS_readlink, "t/lnk", buf, 0));
            CHECK(syscall(SYS_readlink, "t/lnk", buf, -1));
            CHECK(syscall(SYS_readlink, "t/lnk", WILD, sizeof buf));
            CHECK(syscall(SYS_readlink, WILD, buf, sizeof buf));
            CHECK(syscall(SYS_readlink, "", buf, sizeof buf));
            CHECK(syscall(SYS_readlinkat, t, "", buf, sizeof buf));
            CHECK(syscall(SYS_readlinkat, 999, "c", buf, sizeof buf));
            int lp = open("t/lnk", O_PATH | O_NOFOLLOW);
            memset(buf, 0, sizeof buf);
            CHECK(syscall(SYS_readlinkat, lp, "", buf, sizeof buf));
            SAY("[%s]\n", buf);

            /* /proc/self/exe names this program */
            char exe[PATH_MAX] = {0};
            long n = syscall(SYS_readlink, "/proc/self/exe", exe, sizeof exe);
            struct stat se, sa;
            SAY("exe is a path: %d names argv[0]: %d\n", n > 0 && exe[0] == '/',
                argc > 0 && stat(exe, &se) == 0 && stat(argv[0], &sa) == 0 && se.st_ino == sa.st_ino && se.st_dev == sa.st_dev);
            char pidexe[64], exe2[PATH_MAX] = {0};
            snprintf(pidexe, sizeof pidexe, "/proc/%d/exe", getpid());
            CHECK(syscall(SYS_readlink, pidexe, exe2, sizeof exe2) == n && memcmp(exe, exe2, n) == 0);
            CHECK(syscall(SYS_readlink, "/proc/self/exe", exe2, 3));
            struct stat s1, s2;
            CHECK(stat("/proc/self/exe", &s1) == 0 && stat(exe, &s2) == 0 && s1.st_ino == s2.st_ino);
            int fdlink = open("t/a", O_RDONLY);
            snprintf(pidexe, sizeof pidexe, "/proc/self/fd/%d", fdlink);
            memset(buf, 0, sizeof buf);
            CHECK(syscall(SYS_readlink, pidexe, buf, sizeof buf) > 0);
            SAY("fd link ends in /t/a: %d\n", strcmp(buf + strlen(buf) - 4, "/t/a") == 0);
            int again = open(pidexe, O_RDONLY);
            struct stat s3, s4;
            CHECK(again >= 0 && fstat(again, &s3) == 0 && fstat(fdlink, &s4) == 0 && s3.st_ino == s4.st_ino);
            close(again);
            close(fdlink);
            CHECK(syscall(SYS_readlink, pidexe, buf, sizeof buf));

            /* link */
            CHECK(syscall(SYS_link, "t/a", "t/hard"));
            stat("t/a", &st);
            SAY("nlink %ld\n", (long)st.st_nlink);
            CHECK(syscall(SYS_link, "t/a", "t/hard"));
            CHECK(syscall(SYS_link, "t/missing", "t/x"));
            CHECK(syscall(SYS_link, "t/sub", "t/x"));
            CHECK(syscall(SYS_linkat, AT_FDCWD, "t/a", AT_FDCWD, "t/x", 0x1));
            CHECK(unlink("t/hard"));

            /* rename */
            CHECK(syscall(SYS_rename, "t/a", "t/c"));
            CHECK(access("t/a", F_OK));
            CHECK(syscall(SYS_rename, "t/missing", "t/x"));
            CHECK(syscall(SYS_rename, "t/c", "t/sub2"));
            CHECK(syscall(SYS_rename, "t/sub2", "t/c"));
            CHECK(syscall(SYS_rename, "t/sub2", "t/sub"));
            CHECK(syscall(SYS_rename, "t/sub2", "t/moved"));
            CHECK(syscall(SYS_rename, "t/moved", "t/moved/inside"));
            CHECK(syscall(SYS_rename, "t/.", "t/x"));
            CHECK(syscall(SYS_rename, WILD, "t/x"));
            CHECK(syscall(SYS_renameat, t, "c", t, "a"));
            CHECK(syscall(SYS_renameat2, t, "a", t, "b", 1));
            CHECK(syscall(SYS_renameat2, t, "a", t, "b", 2));
            CHECK(syscall(SYS_renameat2, t, "a", t, "b", 3));
            CHECK(syscall(SYS_renameat2, t, "a", t, "b", 8));
            CHECK(syscall(SYS_renameat2, 999, "a", t, "b", 0));
            CHECK(lseek(t, 0, SEEK_SET));
            list(t, sizeof buf);

            /* unlink, rmdir */
            CHECK(syscall(SYS_unlink, "t/sub"));
            CHECK(syscall(SYS_unlink, "t/missing"));
            CHECK(syscall(SYS_unlink, "t/a/"));
            CHECK(syscall(SYS_unlink, WILD));
            CHECK(syscall(SYS_rmdir, "t/a"));
            CHECK(syscall(SYS_rmdir, "t/sub"));
            CHECK(syscall(SYS_rmdir, "t/sub/deeper/."));
            CHECK(syscall(SYS_rmdir, "t/sub/deeper/.."));
            CHECK(syscall(SYS_rmdir, "t/missing"));
            CHECK(syscall(SYS_unlinkat, t, "sub/deeper", AT_REMOVEDIR));
            CHECK(syscall(SYS_unlinkat, t, "sub", 0));
            CHECK(syscall(SYS_unlinkat, t, "sub", 0x1));
            CHECK(syscall(SYS_unlinkat, t, "lnk", 0));
            CHECK(syscall(SYS_unlinkat, 999, "lnk", 0));
            CHECK(syscall(SYS_unlinkat, f, "lnk", 0));
            CHECK(lseek(t, 0, SEEK_SET));
            list(t, sizeof buf);

            clean();
            return 0;
        }
        """;
}
