namespace UserModeOS.Conformance.SyscallTests;

/// <summary>
/// open(2) with O_TMPFILE, on the host folder and on a tmpfs (/dev/shm, tmpfs on both sides):
/// the flag checks, an unnamed file with nlink 0 and the umask applied, naming it with
/// linkat(2) AT_EMPTY_PATH and through /proc/self/fd with AT_SYMLINK_FOLLOW, O_EXCL making it
/// unlinkable, and an unlinked one leaving nothing behind.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class TmpFileTests(string compiler)
{
    [Test]
    public void TmpFileOpenAndLink() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        #include <dirent.h>

        #ifndef O_TMPFILE
        #define O_TMPFILE (020000000 | O_DIRECTORY)
        #endif

        /* The names in a directory, "." and ".." left out, in order. */
        static void list(const char *what, const char *dir)
        {
            DIR *d = opendir(dir);
            char names[64][256];
            int n = 0;
            for (struct dirent *e; d && (e = readdir(d)) && n < 64;)
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                    snprintf(names[n++], sizeof names[0], "%s", e->d_name);
            if (d) closedir(d);
            qsort(names, n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
            SAY("%s:", what);
            for (int i = 0; i < n; i++) SAY(" %s", names[i]);
            SAY("\n");
        }

        static void show(const char *what, int fd)
        {
            struct stat st;
            CHECK(fstat(fd, &st));
            SAY("%s: type %o perm %o nlink %ld size %ld\n", what, st.st_mode & S_IFMT, st.st_mode & 07777, (long)st.st_nlink, (long)st.st_size);
        }

        /* Everything O_TMPFILE does, in directory dir. */
        static void run(const char *dir)
        {
            char a[256], b[256], c[256], x[256], xs[260], f[256], lnk[256], proc[64], target[512];
            snprintf(a, sizeof a, "%s/a", dir);
            snprintf(b, sizeof b, "%s/b", dir);
            snprintf(c, sizeof c, "%s/c", dir);
            snprintf(x, sizeof x, "%s/x", dir);
            snprintf(f, sizeof f, "%s/f", dir);
            snprintf(lnk, sizeof lnk, "%s/lnk", dir);
            close(open(f, O_WRONLY | O_CREAT, 0644));
            symlink(".", lnk);

            CHECK(open(dir, O_TMPFILE | O_RDONLY, 0600));
            CHECK(open(dir, O_TMPFILE | O_WRONLY | O_CREAT, 0600));
            CHECK(open(f, O_TMPFILE | O_RDWR, 0600));
            CHECK(open(x, O_TMPFILE | O_RDWR, 0600));
            snprintf(xs, sizeof xs, "%s/", x);
            CHECK(open(xs, O_TMPFILE | O_RDWR, 0600));
            CHECK(open(lnk, O_TMPFILE | O_RDWR | O_NOFOLLOW, 0600));
            int viaLink = open(lnk, O_TMPFILE | O_RDWR, 0600);
            SAY("through a symlink: %d\n", viaLink >= 0);
            close(viaLink);
            int pathFd = open(dir, O_TMPFILE | O_RDWR | O_PATH, 0600);
            SAY("O_PATH wins: %d\n", pathFd >= 0 && (fcntl(pathFd, F_GETFL) & O_PATH) != 0);
            close(pathFd);

            /* An unnamed file: nlink 0, the umask applied, invisible in the directory. */
            umask(022);
            int fd = open(dir, O_TMPFILE | O_RDWR, 0666);
            SAY("opened: %d\n", fd >= 0);
            show("tmpfile", fd);
            CHECK(write(fd, "hello", 5));
            show("written", fd);
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
            long n = readlink(proc, target, sizeof target - 1);
            target[n > 0 ? n : 0] = 0;
            SAY("fd link is deleted: %d\n", n > 0 && strstr(target, "/#") != NULL && strstr(target, " (deleted)") != NULL);
            list("before linking", dir);

            /* Named by AT_EMPTY_PATH, then again through /proc/self/fd. */
            CHECK(linkat(fd, "", AT_FDCWD, a, AT_EMPTY_PATH));
            show("linked", fd);
            struct stat sa, sf;
            fstat(fd, &sf);
            CHECK(stat(a, &sa));
            SAY("a is the file: %d perm %o\n", sa.st_ino == sf.st_ino, sa.st_mode & 07777);
            char got[16] = "";
            int r = open(a, O_RDONLY);
            CHECK(read(r, got, sizeof got));
            close(r);
            SAY("a holds: %s\n", got);
            CHECK(linkat(AT_FDCWD, proc, AT_FDCWD, b, AT_SYMLINK_FOLLOW));
            show("linked twice", fd);
            CHECK(linkat(AT_FDCWD, proc, AT_FDCWD, b, AT_SYMLINK_FOLLOW));
            CHECK(linkat(fd, "", AT_FDCWD, a, AT_EMPTY_PATH));
            CHECK(linkat(AT_FDCWD, proc, AT_FDCWD, c, 0));
            list("after linking", dir);

            /* Its names gone, it cannot get one again. */
            CHECK(unlink(a));
            CHECK(unlink(b));
            show("unlinked", fd);
            CHECK(linkat(fd, "", AT_FDCWD, a, AT_EMPTY_PATH));
            close(fd);

            /* O_EXCL: never linkable. */
            fd = open(dir, O_TMPFILE | O_WRONLY | O_EXCL, 0600);
            SAY("O_EXCL opened: %d\n", fd >= 0);
            show("O_EXCL", fd);
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
            CHECK(linkat(fd, "", AT_FDCWD, a, AT_EMPTY_PATH));
            CHECK(linkat(AT_FDCWD, proc, AT_FDCWD, a, AT_SYMLINK_FOLLOW));
            close(fd);

            /* Never linked: nothing is left. */
            fd = open(dir, O_TMPFILE | O_RDWR, 0600);
            CHECK(write(fd, "gone", 4));
            close(fd);
            list("after closing", dir);

            unlink(f);
            unlink(lnk);
        }

        int main(void)
        {
            run(".");
            char shm[] = "/dev/shm/tmpfile-XXXXXX";
            if (!mkdtemp(shm)) return 1;
            run(shm);

            /* Across filesystems, and files that are not for linking. */
            int host = open(".", O_TMPFILE | O_RDWR, 0600);
            char there[64];
            snprintf(there, sizeof there, "%s/x", shm);
            CHECK(linkat(host, "", AT_FDCWD, there, AT_EMPTY_PATH));
            CHECK(linkat(host, "", AT_FDCWD, "x/", AT_EMPTY_PATH));
            int p[2];
            CHECK(pipe(p));
            CHECK(linkat(p[0], "", AT_FDCWD, "pipe", AT_EMPTY_PATH));
            char proc[64];
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", p[0]);
            CHECK(linkat(AT_FDCWD, proc, AT_FDCWD, "pipe", AT_SYMLINK_FOLLOW));
            int dot = open(".", O_RDONLY | O_DIRECTORY);
            CHECK(linkat(dot, "", AT_FDCWD, "dir", AT_EMPTY_PATH));
            CHECK(open("/proc", O_TMPFILE | O_RDWR, 0600));
            CHECK(open("/sys", O_TMPFILE | O_RDWR, 0600));
            rmdir(shm);
            return 0;
        }
        """;
}
