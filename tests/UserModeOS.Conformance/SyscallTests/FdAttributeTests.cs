namespace UserModeOS.Conformance.SyscallTests;

/// <summary>
/// fchmod(2), fchown(2), futimens(3) and fstatfs(2) act on the inode a file is open on, not
/// on the path it was opened by: after a rename (with a new file under the old name), after
/// an unlink, on an O_TMPFILE file before it has a name (and through its /proc/self/fd link),
/// with AT_EMPTY_PATH on an O_PATH fd (which fchmod and futimens refuse), on a renamed fifo,
/// and on a pipe through either end. IN_ATTRIB is reported. As root natively, a child that
/// became uid 1000 meets the ownership rules (EPERM, EACCES) through fds it inherited from a
/// folder it cannot search, and makes an O_TMPFILE file that is its own (in a set-group-ID
/// directory, of the directory's group). Run in the cwd (a host folder under umos) and in a
/// folder under /dev/shm (tmpfs on both sides).
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class FdAttributeTests(string compiler)
{
    [Test]
    public void FdAttributesFollowTheInode() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        #include <grp.h>
        #include <sys/inotify.h>
        #include <sys/vfs.h>
        #include <sys/wait.h>

        static char dir[256];

        /* A path in the folder under test. */
        static const char *at(const char *name)
        {
            static char b[4][300];
            static int i;
            i = (i + 1) % 4;
            snprintf(b[i], sizeof b[i], "%s/%s", dir, name);
            return b[i];
        }

        static void say_stat(const char *what, int r, const struct stat *st)
        {
            if (r != 0) {
                SAY("%s: %s\n", what, errname(errno));
                return;
            }
            SAY("%s: perm %o owner %d:%d nlink %ld\n", what, st->st_mode & 07777, (int)st->st_uid, (int)st->st_gid, (long)st->st_nlink);
        }

        static void show(const char *what, int fd)
        {
            struct stat st;
            int r = fstat(fd, &st);
            say_stat(what, r, &st);
        }

        static void show_path(const char *name)
        {
            struct stat st;
            int r = lstat(at(name), &st);
            say_stat(name, r, &st);
        }

        static void show_times(const char *what, int fd)
        {
            struct stat st;
            CHECK(fstat(fd, &st));
            SAY("%s: atime %ld.%09ld mtime %ld.%09ld\n", what, (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
                (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        }

        /* fstatfs agrees with statfs of the folder (the type is the host's, or tmpfs). */
        static void show_fs(const char *what, int fd)
        {
            struct statfs f, d;
            CHECK(fstatfs(fd, &f));
            statfs(dir, &d);
            SAY("%s: same filesystem %d, tmpfs %d, namelen %ld\n", what, f.f_type == d.f_type, f.f_type == 0x01021994, (long)f.f_namelen);
        }

        /* What the inotify instance heard, IN_ATTRIB or not. */
        static void heard(int in)
        {
            char buf[4096];
            long n = read(in, buf, sizeof buf);
            unsigned mask = 0;
            for (char *p = buf; n > 0 && p < buf + n;) {
                struct inotify_event *e = (struct inotify_event *)p;
                mask |= e->mask;
                p += sizeof *e + e->len;
            }
            SAY("inotify: attrib %d\n", (mask & IN_ATTRIB) != 0);
        }

        static const struct timespec when[2] = { { 1000000000, 5 }, { 1200000000, 999999999 } };

        /* fork(), the child having become user and group 1000. */
        static pid_t fork_as_1000(void)
        {
            fflush(stdout);
            pid_t child = fork();
            if (child == 0) {
                setgroups(0, NULL);
                setgid(1000);
                setuid(1000);
            }
            return child;
        }

        static void renamed_and_unlinked(void)
        {
            close(open(at("a"), O_CREAT | O_WRONLY, 0644));
            int fd = open(at("a"), O_RDWR);
            CHECK(rename(at("a"), at("b")));
            close(open(at("a"), O_CREAT | O_WRONLY, 0644));
            chmod(at("a"), 0644);
            int in = inotify_init1(IN_NONBLOCK);
            inotify_add_watch(in, at("b"), IN_ATTRIB);

            CHECK(fchmod(fd, 0600));
            heard(in);
            CHECK(fchown(fd, 1234, 5678));
            heard(in);
            CHECK(futimens(fd, when));
            heard(in);
            show("renamed", fd);
            show_path("b");
            show_path("a");
            show_times("renamed", fd);
            show_fs("renamed", fd);
            CHECK(fchownat(fd, "", 4321, -1, AT_EMPTY_PATH));
            show_path("b");

            CHECK(unlink(at("b")));
            CHECK(fchmod(fd, 0604));
            CHECK(fchown(fd, 42, 43));
            CHECK(futimens(fd, NULL));
            CHECK(futimens(fd, when));
            struct timespec later[2] = { { 1300000000, 1 }, { 0, UTIME_OMIT } };
            CHECK(futimens(fd, later));
            show("unlinked", fd);
            show_times("unlinked", fd);
            show_fs("unlinked", fd);
            show_path("a");
            close(fd);
            close(in);
            unlink(at("a"));
        }

        static void unnamed(void)
        {
            int fd = open(dir, O_TMPFILE | O_RDWR, 0600);
            SAY("tmpfile opened: %d\n", fd >= 0);
            CHECK(fchmod(fd, 0640));
            CHECK(fchown(fd, 7, 8));
            CHECK(futimens(fd, when));
            show("tmpfile", fd);
            show_times("tmpfile", fd);
            show_fs("tmpfile", fd);
            char proc[64];
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
            CHECK(chmod(proc, 0604));
            CHECK(chown(proc, 9, -1));
            CHECK(fchownat(fd, "", -1, 10, AT_EMPTY_PATH));
            show("through its link", fd);
            CHECK(linkat(fd, "", AT_FDCWD, at("c"), AT_EMPTY_PATH));
            show_path("c");
            close(fd);
            unlink(at("c"));
        }

        static void path_fds(void)
        {
            close(open(at("p"), O_CREAT | O_WRONLY, 0644));
            symlink("p", at("sym"));
            int fd = open(at("p"), O_PATH);
            CHECK(fchmod(fd, 0600));
            CHECK(fchown(fd, 1, 1));
            CHECK(futimens(fd, when));
            CHECK(utimensat(fd, NULL, when, AT_EMPTY_PATH));
            CHECK(fchmodat(fd, "", 0600, AT_EMPTY_PATH));
            CHECK(syscall(SYS_fchmodat, fd, "", 0600, AT_EMPTY_PATH));
            CHECK(rename(at("p"), at("q")));
            CHECK(fchownat(fd, "", 11, 12, AT_EMPTY_PATH));
            CHECK(utimensat(fd, "", when, AT_EMPTY_PATH));
            show("O_PATH", fd);
            show_times("O_PATH", fd);
            show_fs("O_PATH", fd);
            show_path("q");
            int link = open(at("sym"), O_PATH | O_NOFOLLOW);
            CHECK(fchownat(link, "", 13, 14, AT_EMPTY_PATH));
            show_path("sym");
            show_path("q");
            close(link);
            close(fd);
            unlink(at("q"));
            unlink(at("sym"));
        }

        /* A fifo's attributes are its inode's, wherever it was renamed to. */
        static void fifo(void)
        {
            mkfifo(at("fifo"), 0644);
            int fd = open(at("fifo"), O_RDWR);
            CHECK(rename(at("fifo"), at("fifo2")));
            CHECK(fchmod(fd, 0600));
            CHECK(fchown(fd, 3, 4));
            CHECK(futimens(fd, when));
            show("fifo", fd);
            show_path("fifo2");
            show_times("fifo", fd);
            show_fs("fifo", fd);
            close(fd);
            unlink(at("fifo2"));
        }

        /* A pipe's inode changes through either end, and through its /proc/self/fd link. */
        static void pipes(void)
        {
            int p[2];
            CHECK(pipe(p));
            CHECK(fchmod(p[0], 0640));
            CHECK(fchown(p[1], 5, 6));
            CHECK(futimens(p[0], NULL));
            show("pipe", p[1]);
            char proc[64];
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", p[0]);
            CHECK(chmod(proc, 0604));
            show("pipe", p[0]);
            struct statfs f;
            CHECK(fstatfs(p[0], &f));
            SAY("pipefs %d\n", f.f_type == 0x50495045);
            if (geteuid() == 0) {
                pid_t child = fork_as_1000();
                if (child == 0) {
                    CHECK(fchmod(p[0], 0600));
                    CHECK(futimens(p[0], NULL));
                    CHECK(fchown(p[1], 1000, 1000));
                    fflush(stdout);
                    _exit(0);
                }
                waitpid(child, NULL, 0);
                CHECK(fchown(p[0], 1000, 1000));
                child = fork_as_1000();
                if (child == 0) {
                    CHECK(fchmod(p[0], 0600));
                    CHECK(futimens(p[0], when));
                    CHECK(fchown(p[1], 0, -1));
                    fflush(stdout);
                    _exit(0);
                }
                waitpid(child, NULL, 0);
                show("pipe", p[1]);
            }
            close(p[0]);
            close(p[1]);
        }

        /* Opened by root, changed by uid 1000: the ownership rules, and no search of the folder. */
        static void non_root(void)
        {
            if (geteuid() != 0) {
                SAY("not root: no other users\n");
                return;
            }
            close(open(at("mine"), O_CREAT | O_WRONLY, 0644));
            close(open(at("theirs"), O_CREAT | O_WRONLY, 0644));
            close(open(at("shared"), O_CREAT | O_WRONLY, 0666));
            chmod(at("theirs"), 0644);
            chmod(at("shared"), 0666);
            chown(at("mine"), 1000, 1000);
            mkdir(at("pub"), 0777);
            chmod(at("pub"), 0777);
            mkdir(at("sgid"), 0777);
            chown(at("sgid"), 0, 4321);
            chmod(at("sgid"), 02777);
            int mine = open(at("mine"), O_RDONLY);
            int theirs = open(at("theirs"), O_RDONLY);
            int shared = open(at("shared"), O_RDONLY);
            int pub = open(at("pub"), O_RDONLY | O_DIRECTORY);
            int sgid = open(at("sgid"), O_RDONLY | O_DIRECTORY);
            rename(at("mine"), at("mine2"));
            chmod(dir, 0700);
            pid_t child = fork_as_1000();
            if (child == 0) {
                CHECK(fchmod(mine, 0640));
                CHECK(fchmod(theirs, 0600));
                CHECK(fchown(mine, 1000, 1000));
                CHECK(fchown(mine, -1, 0));
                CHECK(fchown(mine, 0, -1));
                CHECK(fchown(theirs, 1000, -1));
                CHECK(fchown(theirs, -1, -1));
                CHECK(futimens(mine, when));
                CHECK(futimens(theirs, NULL));
                CHECK(futimens(theirs, when));
                CHECK(futimens(shared, NULL));
                struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
                CHECK(futimens(shared, now));
                CHECK(futimens(shared, when));
                CHECK(fchownat(theirs, "", 1000, -1, AT_EMPTY_PATH));
                show("mine", mine);
                CHECK(fchdir(pub));
                int t = open(".", O_TMPFILE | O_RDWR, 0640);
                SAY("child's tmpfile opened: %d\n", t >= 0);
                show("child's tmpfile", t);
                CHECK(fchmod(t, 0600));
                CHECK(fchown(t, 0, -1));
                close(t);
                CHECK(fchdir(sgid));
                t = open(".", O_TMPFILE | O_RDWR, 0640);
                show("child's tmpfile in a set-group-ID folder", t);
                close(t);
                fflush(stdout);
                _exit(0);
            }
            waitpid(child, NULL, 0);
            chmod(dir, 0755);
            show_path("mine2");
            show_path("theirs");
            show_path("shared");
            close(mine);
            close(theirs);
            close(shared);
            close(pub);
            close(sgid);
            unlink(at("mine2"));
            unlink(at("theirs"));
            unlink(at("shared"));
            rmdir(at("pub"));
            rmdir(at("sgid"));
        }

        static void run(const char *where)
        {
            snprintf(dir, sizeof dir, "%s", where);
            SAY("--- %s\n", strcmp(where, ".") ? "tmpfs" : "cwd");
            renamed_and_unlinked();
            unnamed();
            path_fds();
            fifo();
            non_root();
        }

        int main(void)
        {
            umask(022);
            run(".");
            char shm[] = "/dev/shm/fdattr-XXXXXX";
            if (!mkdtemp(shm)) return 1;
            run(shm);
            rmdir(shm);
            pipes();
            return 0;
        }
        """;
}
