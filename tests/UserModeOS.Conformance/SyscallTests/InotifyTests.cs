namespace UserModeOS.Conformance.SyscallTests;

/// <summary>
/// inotify(7): inotify_init1(2), inotify_add_watch(2), inotify_rm_watch(2) and the events file
/// operations queue, read as struct inotify_event records, in the working folder (a host
/// folder under umos) and in folders under /tmp and /dev/shm (tmpfs under umos).
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class InotifyTests(string compiler)
{
    [Test]
    public void WatchesAndEvents() => SyscallPrograms.AssertSameAsNative(Prelude + "\n" + EventsSource, compiler);

    [Test]
    public void ReadingTheQueue() => SyscallPrograms.AssertSameAsNative(Prelude + "\n" + QueueSource, compiler);

    [Test]
    public void OtherSourcesFdinfoAndSignals() => SyscallPrograms.AssertSameAsNative(Prelude + "\n" + OtherSource, compiler);

    /// <summary>Event printing: masks by name, cookies only as whether a move's two halves share one.</summary>
    private const string Prelude = """
        #include <poll.h>
        #include <sys/inotify.h>
        #include <sys/wait.h>

        static unsigned last_cookie;

        static void show_mask(unsigned m)
        {
            static const struct { unsigned bit; const char *name; } names[] = {
                { IN_ACCESS, "ACCESS" }, { IN_MODIFY, "MODIFY" }, { IN_ATTRIB, "ATTRIB" },
                { IN_CLOSE_WRITE, "CLOSE_WRITE" }, { IN_CLOSE_NOWRITE, "CLOSE_NOWRITE" }, { IN_OPEN, "OPEN" },
                { IN_MOVED_FROM, "MOVED_FROM" }, { IN_MOVED_TO, "MOVED_TO" }, { IN_CREATE, "CREATE" },
                { IN_DELETE, "DELETE" }, { IN_DELETE_SELF, "DELETE_SELF" }, { IN_MOVE_SELF, "MOVE_SELF" },
                { IN_UNMOUNT, "UNMOUNT" }, { IN_Q_OVERFLOW, "Q_OVERFLOW" }, { IN_IGNORED, "IGNORED" },
                { IN_ISDIR, "ISDIR" },
            };
            const char *sep = "";
            for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
                if (m & names[i].bit) { SAY("%s%s", sep, names[i].name); sep = "|"; m &= ~names[i].bit; }
            if (m) SAY("%s0x%x", sep, m);
        }

        /* Prints the events in buf[0..n). */
        static void show_events(const char *buf, long n)
        {
            for (const char *p = buf; p < buf + n; ) {
                const struct inotify_event *e = (const void *)p;
                SAY("  wd %d ", e->wd);
                show_mask(e->mask);
                if (e->mask & IN_MOVED_FROM) last_cookie = e->cookie;
                if (e->mask & (IN_MOVED_FROM | IN_MOVED_TO))
                    SAY(" cookie %s", !e->cookie ? "zero" : e->cookie == last_cookie ? "paired" : "unpaired");
                else if (e->cookie)
                    SAY(" cookie %u", e->cookie);
                if (e->len) SAY(" len %u name \"%s\"", e->len, e->name);
                SAY("\n");
                p += sizeof *e + e->len;
            }
        }

        /* Reads (without blocking: fd is IN_NONBLOCK) and prints every queued event. */
        static void drain(int fd, const char *what)
        {
            char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
            SAY("%s:\n", what);
            for (;;) {
                long n = read(fd, buf, sizeof buf);
                if (n < 0) { if (errno != EAGAIN) SAY("  read: %s\n", errname(errno)); return; }
                show_events(buf, n);
            }
        }

        static void put(const char *path, const char *text)
        {
            int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            write(f, text, strlen(text));
            close(f);
        }
        """;

    private const string EventsSource = """
        /* Every event kind on a directory under base, watched along with a file in it. */
        static void events_in(const char *base)
        {
            char d[256], f[256], g[256], sub[256], other[256], moved[256], hard[256];
            snprintf(d, sizeof d, "%s/w", base);
            snprintf(f, sizeof f, "%s/w/f", base);
            snprintf(g, sizeof g, "%s/w/g", base);
            snprintf(sub, sizeof sub, "%s/w/sub", base);
            snprintf(other, sizeof other, "%s/other", base);
            snprintf(moved, sizeof moved, "%s/other/moved", base);
            snprintf(hard, sizeof hard, "%s/w/hard", base);
            mkdir(d, 0755);
            mkdir(other, 0755);
            int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
            SAY("cloexec %d nonblock %d\n", (fcntl(in, F_GETFD) & FD_CLOEXEC) != 0, (fcntl(in, F_GETFL) & O_NONBLOCK) != 0);
            int wd = inotify_add_watch(in, d, IN_ALL_EVENTS);
            int wo = inotify_add_watch(in, other, IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE);
            SAY("wd %d other %d\n", wd, wo);

            /* create, write (twice: coalesced), close */
            int fd = open(f, O_WRONLY | O_CREAT, 0644);
            write(fd, "abc", 3);
            write(fd, "def", 3);
            close(fd);
            drain(in, "create, write twice, close");

            /* read-only open and read */
            char buf[16];
            fd = open(f, O_RDONLY);
            read(fd, buf, sizeof buf);
            close(fd);
            drain(in, "open, read, close");

            /* attribute changes, truncation */
            chmod(f, 0600);
            chown(f, -1, -1);
            chown(f, getuid(), -1);
            struct timespec both[2] = { { 1, 0 }, { 2, 0 } }, only_m[2] = { { 0, UTIME_OMIT }, { 3, 0 } };
            utimensat(AT_FDCWD, f, both, 0);
            utimensat(AT_FDCWD, f, only_m, 0);
            truncate(f, 1);
            fd = open(f, O_WRONLY | O_TRUNC);
            ftruncate(fd, 2);
            close(fd);
            drain(in, "chmod, chown, utimensat, truncate, O_TRUNC, ftruncate");

            /* a watch on the file too: the same inode gives the same wd by any name */
            int wf = inotify_add_watch(in, f, IN_ALL_EVENTS);
            SAY("file wd %d again %d\n", wf, inotify_add_watch(in, f, IN_MODIFY | IN_MASK_ADD));
            CHECK(inotify_add_watch(in, f, IN_MODIFY | IN_MASK_CREATE));
            CHECK(link(f, hard));
            drain(in, "link");
            CHECK(inotify_add_watch(in, hard, IN_ALL_EVENTS) == wf);
            CHECK(unlink(hard));
            drain(in, "unlink of one of two names");

            /* renames: within the directory, then out to another watched one */
            CHECK(rename(f, g));
            CHECK(rename(g, moved));
            put(g, "x");
            int wg = inotify_add_watch(in, g, IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
            CHECK(rename(moved, g));
            drain(in, "renames, the last over a watched file");
            put(hard, "y");
            wg = inotify_add_watch(in, hard, IN_MOVE_SELF);
            CHECK(syscall(SYS_renameat2, AT_FDCWD, g, AT_FDCWD, hard, 2 /* RENAME_EXCHANGE */));
            drain(in, "exchange");
            CHECK(inotify_rm_watch(in, wg));
            unlink(hard);
            drain(in, "rm_watch, unlink");

            /* directories */
            CHECK(mkdir(sub, 0755));
            int dfd = open(d, O_RDONLY | O_DIRECTORY);
            char dents[1024];
            while (syscall(SYS_getdents64, dfd, dents, sizeof dents) > 0) { }
            close(dfd);
            CHECK(rmdir(sub));
            drain(in, "mkdir, list, rmdir");

            /* unlinking the last name of a watched file: IN_DELETE_SELF, IN_IGNORED */
            CHECK(unlink(g));
            drain(in, "unlink");

            /* IN_ONESHOT, then IN_EXCL_UNLINK */
            put(f, "1");
            wf = inotify_add_watch(in, f, IN_MODIFY | IN_ONESHOT);
            put(f, "2");
            put(f, "3");
            drain(in, "oneshot");
            CHECK(inotify_rm_watch(in, wd));
            CHECK(inotify_rm_watch(in, wd));
            CHECK(inotify_rm_watch(in, wf));
            wd = inotify_add_watch(in, d, IN_MODIFY | IN_CLOSE_WRITE | IN_EXCL_UNLINK);
            fd = open(f, O_WRONLY);
            wf = inotify_add_watch(in, f, IN_ALL_EVENTS);
            write(fd, "a", 1);
            unlink(f);
            write(fd, "b", 1);
            drain(in, "excl_unlink, an open file unlinked");
            close(fd);
            drain(in, "its last close");

            /* the directory itself goes */
            CHECK(inotify_add_watch(in, d, IN_DELETE_SELF | IN_MASK_ADD) == wd);
            CHECK(rmdir(d));
            CHECK(rmdir(other));
            drain(in, "rmdir of the watched directories");
            close(in);
        }

        int main(void)
        {
            /* argument checks */
            CHECK(inotify_init1(IN_CLOEXEC | 1));
            int in = inotify_init();
            CHECK(in);
            CHECK(inotify_add_watch(in, ".", 0));
            CHECK(inotify_add_watch(in, ".", 0x800000));
            CHECK(inotify_add_watch(99, ".", IN_MODIFY));
            CHECK(inotify_add_watch(in, ".", IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE));
            CHECK(inotify_add_watch(1, ".", IN_MODIFY));
            CHECK(inotify_add_watch(in, "missing", IN_MODIFY));
            put("file", "");
            CHECK(inotify_add_watch(in, "file", IN_MODIFY | IN_ONLYDIR));
            symlink("file", "link");
            CHECK(inotify_add_watch(in, "link", IN_MODIFY));
            CHECK(inotify_add_watch(in, "link", IN_MODIFY | IN_DONT_FOLLOW));
            CHECK(inotify_add_watch(in, ".", IN_ONLYDIR));
            CHECK(inotify_rm_watch(in, 42));
            CHECK(inotify_rm_watch(1, 1));
            CHECK(inotify_rm_watch(99, 1));
            char link[64] = "";
            char proc[64];
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", in);
            readlink(proc, link, sizeof link - 1);
            SAY("link %s\n", link);
            unlink("link");
            unlink("file");
            close(in);

            events_in(".");
            char tmp[] = "/tmp/inotifyXXXXXX";
            if (!mkdtemp(tmp)) return 1;
            events_in(tmp);
            rmdir(tmp);
            return 0;
        }
        """;

    private const string QueueSource = """
        int main(void)
        {
            mkdir("w", 0755);
            int in = inotify_init1(IN_NONBLOCK);
            int wd = inotify_add_watch(in, "w", IN_CREATE | IN_DELETE);
            char buf[256] __attribute__((aligned(__alignof__(struct inotify_event))));

            /* empty: EAGAIN, not readable, nothing to read */
            int avail = -1;
            CHECK(read(in, buf, sizeof buf));
            CHECK(ioctl(in, FIONREAD, &avail));
            SAY("fionread %d\n", avail);
            struct pollfd p = { .fd = in, .events = POLLIN };
            CHECK(poll(&p, 1, 0));

            /* one event: readable, FIONREAD counts the padded name, a short buffer is EINVAL */
            put("w/a-name-of-twenty-ch", "");
            CHECK(poll(&p, 1, 0));
            SAY("revents %x\n", p.revents);
            CHECK(ioctl(in, FIONREAD, &avail));
            SAY("fionread %d\n", avail);
            CHECK(read(in, buf, sizeof(struct inotify_event)));
            CHECK(read(in, buf, avail - 1));
            long n = read(in, buf, avail);
            CHECK(n);
            show_events(buf, n);

            /* identical events coalesce; a buffer takes as many whole events as fit */
            unlink("w/a-name-of-twenty-ch");
            put("w/x", "");
            unlink("w/x");
            put("w/x", "");
            put("w/y", "");
            CHECK(ioctl(in, FIONREAD, &avail));
            SAY("fionread %d\n", avail);
            n = read(in, buf, 3 * 32 + 10);
            CHECK(n);
            show_events(buf, n);
            n = read(in, buf, sizeof buf);
            CHECK(n);
            show_events(buf, n);
            unlink("w/x");
            unlink("w/y");
            drain(in, "more");

            /* a blocking read waits until a child creates a file */
            int blocking = inotify_init1(0);
            CHECK(inotify_add_watch(blocking, "w", IN_CREATE));
            fflush(stdout);
            pid_t child = fork();
            if (child == 0) {
                usleep(100 * 1000);
                put("w/from-child", "");
                _exit(0);
            }
            n = read(blocking, buf, sizeof buf);
            CHECK(n);
            show_events(buf, n);
            int status;
            waitpid(child, &status, 0);
            SAY("child exited %d\n", WEXITSTATUS(status));

            /* poll wakes up for an event too */
            p.fd = blocking;
            fflush(stdout);
            child = fork();
            if (child == 0) {
                usleep(100 * 1000);
                put("w/second", "");
                _exit(0);
            }
            CHECK(poll(&p, 1, 5000));
            SAY("revents %x\n", p.revents);
            waitpid(child, &status, 0);
            n = read(blocking, buf, sizeof buf);
            show_events(buf, n);

            /* queue overflow: each chmod is two events (the directory's, the file's), which do not
               coalesce; past 16384 one IN_Q_OVERFLOW stands for the rest */
            CHECK(inotify_add_watch(in, "w/from-child", IN_ATTRIB));
            CHECK(inotify_add_watch(in, "w", IN_ATTRIB | IN_MASK_ADD));
            for (int i = 0; i < 8192 + 10; i++) chmod("w/from-child", 0600);
            long total = 0, overflows = 0, events = 0;
            while ((n = read(in, buf, sizeof buf)) > 0) {
                for (char *q = buf; q < buf + n; ) {
                    struct inotify_event *e = (void *)q;
                    events++;
                    if (e->mask & IN_Q_OVERFLOW) { overflows++; SAY("overflow after %ld events, wd %d\n", events - 1, e->wd); }
                    q += sizeof *e + e->len;
                }
                total += n;
            }
            SAY("events %ld overflows %ld bytes %ld\n", events, overflows, total);

            unlink("w/from-child");
            unlink("w/second");
            rmdir("w");
            close(blocking);
            close(in);
            return 0;
        }
        """;

    private const string OtherSource = """
        #include <sys/sendfile.h>
        #include <sys/sysmacros.h>
        #include <sys/xattr.h>

        static void on_alarm(int sig) { (void)sig; }

        int main(void)
        {
            /* in tmpfs, which keeps extended attributes (/dev/shm natively) */
            char dir[] = "/dev/shm/umos-inotify-XXXXXX";
            if (!mkdtemp(dir) || chdir(dir) != 0) return 1;
            put("f", "hello");
            int in = inotify_init1(IN_NONBLOCK);
            int wd = inotify_add_watch(in, ".", IN_ALL_EVENTS & ~(IN_OPEN | IN_CLOSE));
            int wf = inotify_add_watch(in, "f", IN_ATTRIB | IN_MODIFY | IN_ACCESS | IN_ONESHOT | IN_EXCL_UNLINK);
            SAY("wd %d wf %d\n", wd, wf);

            /* extended attributes by path and by fd */
            int fd = open("f", O_RDWR);
            OK(setxattr("f", "user.k", "v", 1, 0));
            OK(fsetxattr(fd, "user.k", "w", 1, 0));
            OK(fremovexattr(fd, "user.k"));
            drain(in, "xattrs");

            /* sendfile, splice both ways */
            wf = inotify_add_watch(in, "f", IN_ACCESS | IN_MODIFY);
            int out = open("g", O_WRONLY | O_CREAT, 0644);
            off_t off = 0;
            CHECK(sendfile(out, fd, &off, 5));
            int p[2];
            pipe(p);
            loff_t from = 1;
            CHECK(splice(fd, &from, p[1], NULL, 3, 0));
            CHECK(splice(p[0], NULL, out, NULL, 3, 0));
            close(out);
            drain(in, "sendfile, splice");

            /* /proc/self/fdinfo: a line per watch */
            char path[64], text[2048];
            snprintf(path, sizeof path, "/proc/self/fdinfo/%d", in);
            int info = open(path, O_RDONLY);
            long n = read(info, text, sizeof text - 1);
            close(info);
            text[n > 0 ? n : 0] = 0;
            struct stat dot, file;
            stat(".", &dot);
            stat("f", &file);
            for (char *line = strstr(text, "inotify "); line; line = strstr(line + 1, "inotify ")) {
                unsigned w, sdev, mask, ignored;
                unsigned long ino;
                if (sscanf(line, "inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:%x", &w, &ino, &sdev, &mask, &ignored) != 5) {
                    SAY("unparsed: %.40s\n", line);
                    continue;
                }
                const struct stat *st = ino == dot.st_ino ? &dot : &file;
                SAY("fdinfo wd %x mask %x ignored %x ino %s sdev %s\n", w, mask, ignored,
                    ino == dot.st_ino ? "of ." : ino == file.st_ino ? "of f" : "other",
                    sdev == (major(st->st_dev) << 20 | minor(st->st_dev)) ? "matches" : "differs");
            }

            /* a signal interrupts a blocking read */
            struct sigaction sa = { .sa_handler = on_alarm };
            sigaction(SIGALRM, &sa, NULL);
            int blocking = inotify_init();
            CHECK(inotify_add_watch(blocking, ".", IN_CREATE));
            struct itimerval it = { .it_value = { 0, 100 * 1000 } };
            setitimer(ITIMER_REAL, &it, NULL);
            CHECK(read(blocking, text, sizeof text));

            unlink("f");
            unlink("g");
            drain(in, "unlink");
            close(fd);
            drain(in, "close");
            close(blocking);
            close(in);
            chdir("/");
            rmdir(dir);
            return 0;
        }
        """;
}
