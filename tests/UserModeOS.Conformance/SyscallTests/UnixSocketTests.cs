namespace UserModeOS.Conformance.SyscallTests;

/// <summary>
/// AF_UNIX sockets (unix(7)): socketpair of each type, servers and clients across fork over
/// a filesystem and an abstract name, fd passing, peeking, truncation, credentials and
/// readiness, native vs umos.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class UnixSocketTests(string compiler)
{
    private const string Common = """
        #include <poll.h>
        #include <stddef.h>
        #include <sys/select.h>
        #include <sys/socket.h>
        #include <sys/un.h>
        #include <sys/wait.h>

        /* Abstract names are host-wide natively: each run's carry its own tag, which show_name hides. */
        static char tag[16];
        __attribute__((constructor)) static void make_tag(void) { snprintf(tag, sizeof tag, "-%d", (int)getpid()); }

        /* A sockaddr_un for a pathname, or for an abstract name (tagged) when it starts with '@'. */
        static socklen_t name(struct sockaddr_un *a, const char *n)
        {
            memset(a, 0, sizeof *a);
            a->sun_family = AF_UNIX;
            size_t len = strlen(n);
            memcpy(a->sun_path, n, len);
            if (n[0] != '@') return sizeof *a;
            a->sun_path[0] = 0;
            memcpy(a->sun_path + len, tag, strlen(tag));
            return offsetof(struct sockaddr_un, sun_path) + len + strlen(tag);
        }

        /* An address as "len=N path" or "len=N @abstract" (an autobound name shown by its length only). */
        static void show_name(const char *what, struct sockaddr_un *a, socklen_t len)
        {
            int n = (int)len - (int)offsetof(struct sockaddr_un, sun_path);
            if (n > 0 && a->sun_path[0] == 0 && n > (int)strlen(tag) && !memcmp(a->sun_path + n - strlen(tag), tag, strlen(tag))) {
                printf("%s: len=%d @%.*s\n", what, (int)(len - strlen(tag)), (int)(n - 1 - strlen(tag)), a->sun_path + 1);
            } else if (n > 0 && a->sun_path[0] == 0) {
                printf("%s: len=%d autobound\n", what, (int)len);
            } else {
                printf("%s: len=%d %.*s\n", what, (int)len, n > 0 ? n : 0, n > 0 ? a->sun_path : "");
            }
        }

        static void show_poll(const char *what, int fd)
        {
            struct pollfd p = { fd, POLLIN | POLLOUT | POLLRDHUP, 0 };
            int n = poll(&p, 1, 0);
            printf("%s: %d%s%s%s%s%s\n", what, n, p.revents & POLLIN ? " IN" : "", p.revents & POLLOUT ? " OUT" : "",
                p.revents & POLLHUP ? " HUP" : "", p.revents & POLLRDHUP ? " RDHUP" : "", p.revents & POLLERR ? " ERR" : "");
        }

        static void show_read(const char *what, int fd, int flags)
        {
            char b[64];
            long n = recv(fd, b, sizeof b - 1, flags);
            if (n < 0) { printf("%s: %s\n", what, errname(errno)); return; }
            b[n] = 0;
            printf("%s: %ld '%s'\n", what, n, b);
        }

        static int caught;
        static void on_signal(int s) { caught = s; }
        """;

    private const string StreamPair = """
        int main(void)
        {
            signal(SIGPIPE, on_signal);
            int sv[2], n;
            CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
            show_poll("fresh", sv[0]);
            CHECK(write(sv[0], "hello", 5));
            CHECK(write(sv[0], " world", 6));
            CHECK(ioctl(sv[1], FIONREAD, &n));
            SAY("fionread %d\n", n);
            show_poll("readable", sv[1]);
            show_read("peek", sv[1], MSG_PEEK);
            char b[4];
            CHECK(read(sv[1], b, 3));
            SAY("%.3s\n", b);
            show_read("rest", sv[1], 0);
            show_read("empty nonblocking", sv[1], MSG_DONTWAIT);

            CHECK(shutdown(sv[0], SHUT_WR));
            show_poll("after shut_wr (peer)", sv[1]);
            show_poll("after shut_wr (self)", sv[0]);
            show_read("eof", sv[1], 0);
            CHECK(write(sv[0], "x", 1));
            SAY("signal %d\n", caught);
            caught = 0;
            CHECK(send(sv[0], "x", 1, MSG_NOSIGNAL));
            SAY("signal %d\n", caught);
            CHECK(write(sv[1], "back", 4));
            show_read("other way still open", sv[0], 0);
            CHECK(shutdown(sv[0], 7));

            /* Closing with unread data resets the peer. */
            int p[2];
            CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p));
            CHECK(fcntl(p[0], F_GETFD));
            CHECK(write(p[0], "unread", 6));
            CHECK(write(p[1], "tail", 4));
            CHECK(close(p[1]));
            show_poll("peer closed", p[0]);
            show_read("reset", p[0], 0);
            show_read("then tail", p[0], 0);
            show_read("then eof", p[0], 0);
            CHECK(write(p[0], "x", 1));
            SAY("signal %d\n", caught);

            struct stat st;
            CHECK(fstat(sv[0], &st));
            SAY("sock %d mode %o\n", S_ISSOCK(st.st_mode), st.st_mode & 0777);
            char link[64], want[64];
            long len = readlink("/proc/self/fd/3", link, sizeof link - 1);
            link[len > 0 ? len : 0] = 0;
            snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st.st_ino);
            SAY("fd link matches: %d\n", strcmp(link, want) == 0);
            CHECK(open("/proc/self/fd/3", O_RDWR));
            CHECK(lseek(sv[0], 0, SEEK_SET));
            int type, domain;
            socklen_t tl = sizeof type;
            CHECK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &tl));
            tl = sizeof domain;
            CHECK(getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &domain, &tl));
            SAY("type %d domain %d len %d\n", type, domain, (int)tl);
            int buf = 10000, got;
            CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf));
            tl = sizeof got;
            CHECK(getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &got, &tl));
            SAY("sndbuf %d\n", got);
            buf = 1;
            CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf));
            CHECK(getsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &got, &tl));
            SAY("rcvbuf %d\n", got);
            CHECK(getsockopt(sv[0], SOL_SOCKET, SO_ACCEPTCONN, &got, &tl));
            SAY("acceptconn %d\n", got);
            CHECK(getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &got, &tl));
            CHECK(getsockopt(sv[0], SOL_SOCKET, 12345, &got, &tl));
            CHECK(getsockopt(sv[0], 6 /* IPPROTO_TCP */, 1, &got, &tl));
            struct ucred cr;
            tl = sizeof cr;
            CHECK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &tl));
            SAY("peercred pid is mine %d uid %d gid %d\n", cr.pid == getpid(), cr.uid == geteuid(), cr.gid == getegid());

            CHECK(socket(AF_UNIX, 99, 0));
            CHECK(socket(AF_UNIX, SOCK_STREAM, 7));
            CHECK(socket(AF_UNIX, SOCK_STREAM | 0x4000000, 0));
            CHECK(getsockname(0, NULL, NULL));
            CHECK(listen(sv[0], 1));
            return 0;
        }
        """;

    private const string MessagePairs = """
        static void boundaries(int type, const char *label)
        {
            int sv[2];
            SAY("-- %s\n", label);
            CHECK(socketpair(AF_UNIX, type, 0, sv));
            CHECK(send(sv[0], "one", 3, 0));
            CHECK(send(sv[0], "three", 5, 0));
            CHECK(send(sv[0], "", 0, 0));
            CHECK(write(sv[0], "sixsix", 6));
            int n;
            CHECK(ioctl(sv[1], FIONREAD, &n));
            SAY("fionread %d\n", n);
            show_read("first", sv[1], 0);
            show_read("peek second", sv[1], MSG_PEEK);
            char b[2];
            CHECK(recv(sv[1], b, 2, 0));
            SAY("truncated to %.2s\n", b);
            show_read("empty", sv[1], 0);
            CHECK(recv(sv[1], b, 2, MSG_TRUNC));
            struct msghdr m = { 0 };
            struct iovec v = { b, 1 };
            CHECK(send(sv[0], "abc", 3, 0));
            m.msg_iov = &v; m.msg_iovlen = 1;
            CHECK(recvmsg(sv[1], &m, 0));
            SAY("msg_flags trunc %d\n", (m.msg_flags & MSG_TRUNC) != 0);
            show_read("nothing", sv[1], MSG_DONTWAIT);
            show_poll("idle", sv[1]);
            CHECK(close(sv[0]));
            show_poll("peer closed", sv[1]);
            if (type == SOCK_SEQPACKET) {
                show_read("eof", sv[1], 0);
                CHECK(send(sv[1], "x", 1, MSG_NOSIGNAL));
            } else {
                CHECK(send(sv[1], "x", 1, 0));
                CHECK(send(sv[1], "x", 1, 0));
            }
            CHECK(close(sv[1]));
        }

        int main(void)
        {
            boundaries(SOCK_DGRAM, "dgram");
            boundaries(SOCK_SEQPACKET, "seqpacket");

            /* A datagram larger than the send buffer does not fit. */
            int sv[2], small = 2048;
            CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv));
            CHECK(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
            CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small));
            static char big[8192];
            CHECK(send(sv[0], big, sizeof big, 0));
            CHECK(send(sv[0], big, 1000, 0));
            int sent = 0;
            while (send(sv[0], big, 1000, 0) > 0) sent++;
            SAY("then %s after %d more\n", errname(errno), sent);
            show_poll("full", sv[0]);
            return 0;
        }
        """;

    private const string ServerClient = """
        /* The server accepts once, tells who connected and echoes one message in upper case. */
        static void serve(int listener)
        {
            struct sockaddr_un peer;
            socklen_t len = sizeof peer;
            int c = accept(listener, (struct sockaddr *)&peer, &len);
            if (c < 0) { printf("accept: %s\n", errname(errno)); exit(1); }
            show_name("server sees client", &peer, len);
            struct ucred cr;
            socklen_t cl = sizeof cr;
            getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
            char b[64];
            long n = read(c, b, sizeof b);
            for (long i = 0; i < n; i++) b[i] = b[i] >= 'a' && b[i] <= 'z' ? b[i] - 32 : b[i];
            write(c, b, n);
            write(c, &cr.pid, sizeof cr.pid);
            close(c);
        }

        static void run(const char *where)
        {
            struct sockaddr_un a, got;
            socklen_t alen = name(&a, where), len;
            SAY("-- %s\n", where);
            int s = socket(AF_UNIX, SOCK_STREAM, 0);
            int c0 = socket(AF_UNIX, SOCK_STREAM, 0);
            CHECK(connect(c0, (struct sockaddr *)&a, alen));
            CHECK(listen(s, 4));
            CHECK(bind(s, (struct sockaddr *)&a, alen));
            CHECK(bind(s, (struct sockaddr *)&a, alen));
            int other = socket(AF_UNIX, SOCK_STREAM, 0);
            CHECK(bind(other, (struct sockaddr *)&a, alen));
            CHECK(connect(c0, (struct sockaddr *)&a, alen));
            CHECK(listen(s, 4));
            CHECK(fcntl(s, F_SETFL, O_NONBLOCK));
            CHECK(accept(s, NULL, NULL));
            CHECK(fcntl(s, F_SETFL, 0));
            len = sizeof got;
            CHECK(getsockname(s, (struct sockaddr *)&got, &len));
            show_name("server name", &got, len);
            int yes;
            socklen_t yl = sizeof yes;
            CHECK(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &yes, &yl));
            SAY("acceptconn %d\n", yes);
            show_poll("listening", s);
            if (where[0] != '@') {
                struct stat st;
                CHECK(stat(where, &st));
                SAY("sock %d mode %o\n", S_ISSOCK(st.st_mode), st.st_mode & 0777);
                CHECK(open(where, O_RDWR));
            }

            pid_t child = fork();
            if (child == 0) {
                int c = socket(AF_UNIX, SOCK_STREAM, 0);
                if (connect(c, (struct sockaddr *)&a, alen) < 0) { printf("connect: %s\n", errname(errno)); _exit(1); }
                write(c, "hello server", 12);
                char b[64];
                struct sockaddr_un from;
                socklen_t fl = sizeof from;
                int n = recvfrom(c, b, 1, 0, (struct sockaddr *)&from, &fl), r;
                show_name("stream data from", &from, fl);
                while ((r = read(c, b + n, sizeof b - n)) > 0) n += r;
                int pid;
                memcpy(&pid, b + 12, sizeof pid);
                printf("client got %.12s, server saw my pid: %d\n", b, pid == getpid());
                struct ucred cr;
                socklen_t cl = sizeof cr;
                getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
                printf("client's peer is the parent: %d\n", cr.pid == getppid());
                struct sockaddr_un pn;
                socklen_t pl = sizeof pn;
                getpeername(c, (struct sockaddr *)&pn, &pl);
                show_name("client's peer name", &pn, pl);
                pl = sizeof pn;
                getsockname(c, (struct sockaddr *)&pn, &pl);
                show_name("client's own name", &pn, pl);
                fflush(stdout);
                _exit(0);
            }
            struct pollfd pf = { s, POLLIN, 0 };
            CHECK(poll(&pf, 1, 5000));
            SAY("connection pending %d\n", pf.revents == POLLIN);
            serve(s);
            int status;
            waitpid(child, &status, 0);
            SAY("child exit %d\n", WEXITSTATUS(status));
            CHECK(close(s));
            CHECK(close(other));
            int late = socket(AF_UNIX, SOCK_STREAM, 0);
            CHECK(connect(late, (struct sockaddr *)&a, alen));
            if (where[0] != '@') CHECK(unlink(where));
            CHECK(connect(late, (struct sockaddr *)&a, alen));
            int d = socket(AF_UNIX, SOCK_DGRAM, 0);
            CHECK(bind(d, (struct sockaddr *)&a, alen));
            CHECK(connect(late, (struct sockaddr *)&a, alen));
            close(d);
            close(late);
            close(c0);
            if (where[0] != '@') unlink(where);
        }

        int main(void)
        {
            run("srv.sock");
            run("@umos-test-abstract");

            /* Autobind: sun_family alone. */
            int s = socket(AF_UNIX, SOCK_DGRAM, 0);
            struct sockaddr_un a = { AF_UNIX };
            socklen_t len = sizeof a;
            CHECK(getsockname(s, (struct sockaddr *)&a, &len));
            SAY("unbound len %d\n", (int)len);
            CHECK(bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)));
            len = sizeof a;
            CHECK(getsockname(s, (struct sockaddr *)&a, &len));
            SAY("autobound len %d abstract %d\n", (int)len, a.sun_path[0] == 0);
            struct sockaddr_un b;
            CHECK(bind(s, (struct sockaddr *)&b, name(&b, "again.sock")));
            CHECK(access("again.sock", F_OK));
            CHECK(bind(s, (struct sockaddr *)&b, 1));
            b.sun_family = AF_INET;
            CHECK(bind(s, (struct sockaddr *)&b, sizeof b));
            CHECK(bind(s, (struct sockaddr *)&b, sizeof b + 1));
            CHECK(bind(s, (struct sockaddr *)&b, name(&b, "no/such/dir/x.sock")));

            /* Only writers of the socket file may connect. */
            int l = socket(AF_UNIX, SOCK_STREAM, 0);
            umask(0222);
            CHECK(bind(l, (struct sockaddr *)&b, name(&b, "ro.sock")));
            umask(022);
            struct stat st;
            CHECK(stat("ro.sock", &st));
            SAY("mode %o\n", st.st_mode & 0777);
            CHECK(listen(l, 1));
            if (fork() == 0) {
                setgid(65534);
                setuid(65534);
                int c = socket(AF_UNIX, SOCK_STREAM, 0);
                CHECK(connect(c, (struct sockaddr *)&b, name(&b, "ro.sock")));
                fflush(stdout);
                _exit(0);
            }
            wait(NULL);
            int f = open("plain", O_CREAT | O_WRONLY, 0666);
            close(f);
            int c = socket(AF_UNIX, SOCK_STREAM, 0);
            CHECK(connect(c, (struct sockaddr *)&b, name(&b, "plain")));
            CHECK(connect(c, (struct sockaddr *)&b, name(&b, "missing")));
            return 0;
        }
        """;

    private const string Datagrams = """
        int main(void)
        {
            struct sockaddr_un sa, ca, from;
            socklen_t sl = name(&sa, "dgram.sock"), cl = name(&ca, "@umos-dgram-client"), fl;
            int s = socket(AF_UNIX, SOCK_DGRAM, 0), c = socket(AF_UNIX, SOCK_DGRAM, 0);
            CHECK(bind(s, (struct sockaddr *)&sa, sl));
            CHECK(send(c, "nowhere", 7, 0));
            CHECK(sendto(c, "anon", 4, 0, (struct sockaddr *)&sa, sl));
            char b[32];
            fl = sizeof from;
            CHECK(recvfrom(s, b, sizeof b, 0, (struct sockaddr *)&from, &fl));
            SAY("from unbound: len %d\n", (int)fl);
            CHECK(bind(c, (struct sockaddr *)&ca, cl));
            CHECK(sendto(c, "named", 5, 0, (struct sockaddr *)&sa, sl));
            fl = sizeof from;
            CHECK(recvfrom(s, b, sizeof b, 0, (struct sockaddr *)&from, &fl));
            show_name("from", &from, fl);
            CHECK(connect(c, (struct sockaddr *)&sa, sl));
            struct sockaddr_un pn;
            socklen_t pl = sizeof pn;
            CHECK(getpeername(c, (struct sockaddr *)&pn, &pl));
            show_name("peer", &pn, pl);
            CHECK(send(c, "connected", 9, 0));
            show_read("got", s, 0);
            int stranger = socket(AF_UNIX, SOCK_DGRAM, 0);
            CHECK(connect(s, (struct sockaddr *)&ca, cl));
            CHECK(sendto(stranger, "x", 1, 0, (struct sockaddr *)&sa, sl));
            struct sockaddr unspec = { AF_UNSPEC };
            CHECK(connect(s, &unspec, sizeof unspec));
            CHECK(sendto(stranger, "y", 1, 0, (struct sockaddr *)&sa, sl));
            show_read("stranger", s, 0);
            CHECK(close(s));
            CHECK(send(c, "gone", 4, 0));
            CHECK(send(c, "gone", 4, 0));
            CHECK(sendto(c, "gone", 4, 0, (struct sockaddr *)&sa, sl));
            int st = socket(AF_UNIX, SOCK_STREAM, 0);
            CHECK(connect(st, (struct sockaddr *)&ca, cl));
            return 0;
        }
        """;

    private const string Rights = """
        /* Sends one byte with the fds attached. */
        static long send_fds(int s, int *fds, int n)
        {
            char c = '!';
            struct iovec v = { &c, 1 };
            char control[CMSG_SPACE(sizeof(int) * 8)];
            memset(control, 0, sizeof control);
            struct msghdr m = { 0 };
            m.msg_iov = &v; m.msg_iovlen = 1;
            m.msg_control = control; m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
            struct cmsghdr *h = CMSG_FIRSTHDR(&m);
            h->cmsg_level = SOL_SOCKET; h->cmsg_type = SCM_RIGHTS; h->cmsg_len = CMSG_LEN(sizeof(int) * n);
            memcpy(CMSG_DATA(h), fds, sizeof(int) * n);
            return sendmsg(s, &m, 0);
        }

        /* Receives one byte and prints the fds that came with it. */
        static void recv_fds(int s, size_t room, int flags, int *out)
        {
            char c;
            struct iovec v = { &c, 1 };
            char control[256];
            struct msghdr m = { 0 };
            m.msg_iov = &v; m.msg_iovlen = 1;
            m.msg_control = room ? control : NULL; m.msg_controllen = room;
            long r = recvmsg(s, &m, flags);
            if (r < 0) { printf("recvmsg: %s\n", errname(errno)); return; }
            printf("recvmsg %ld ctrunc %d controllen %d:", r, (m.msg_flags & MSG_CTRUNC) != 0, (int)m.msg_controllen);
            int i = 0;
            for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
                int n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (int k = 0; k < n; k++) {
                    int fd;
                    memcpy(&fd, CMSG_DATA(h) + k * sizeof(int), sizeof fd);
                    printf(" fd%d cloexec %d", fd, (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
                    if (out) out[i++] = fd;
                }
            }
            printf("\n");
        }

        int main(void)
        {
            int sv[2], p[2];
            CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
            CHECK(pipe(p));
            int f = open("file.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
            write(f, "file data", 9);
            int fds[2] = { p[0], f };
            CHECK(send_fds(sv[0], fds, 2));
            CHECK(close(p[0]));
            CHECK(close(f));
            int got[2] = { -1, -1 };
            recv_fds(sv[1], 256, MSG_CMSG_CLOEXEC, got);
            CHECK(write(p[1], "through the pipe", 16));
            char b[32] = { 0 };
            CHECK(read(got[0], b, sizeof b));
            SAY("%s\n", b);
            /* The same open file description: the offset is shared. */
            CHECK(lseek(got[1], 0, SEEK_CUR));
            CHECK(lseek(got[1], 5, SEEK_SET));
            memset(b, 0, sizeof b);
            CHECK(read(got[1], b, sizeof b));
            SAY("%s\n", b);

            /* A control buffer too small: the fds that do not fit are closed. */
            int three[3] = { 0, 1, 2 };
            CHECK(send_fds(sv[0], three, 3));
            recv_fds(sv[1], CMSG_SPACE(sizeof(int)), 0, NULL);
            CHECK(send_fds(sv[0], three, 1));
            recv_fds(sv[1], 0, 0, NULL);
            CHECK(send_fds(sv[0], three, 1));
            recv_fds(sv[1], 256, MSG_PEEK, NULL);
            recv_fds(sv[1], 256, 0, NULL);
            int bad[1] = { 77 };
            CHECK(send_fds(sv[0], bad, 1));

            /* Data after fds is not glued to them. */
            CHECK(send_fds(sv[0], three, 1));
            CHECK(write(sv[0], "more", 4));
            show_read("stream read", sv[1], 0);
            show_read("stream read", sv[1], 0);

            /* Over datagrams, and to a child across fork. */
            int d[2];
            CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, d));
            pid_t child = fork();
            if (child == 0) {
                int mine[1];
                recv_fds(d[1], 256, 0, mine);
                char buf[32] = { 0 };
                lseek(mine[0], 0, SEEK_SET);
                read(mine[0], buf, sizeof buf);
                printf("child read %s\n", buf);
                fflush(stdout);
                _exit(0);
            }
            int file2 = open("file.txt", O_RDONLY);
            CHECK(send_fds(d[0], &file2, 1));
            waitpid(child, NULL, 0);

            /* SCM_CREDENTIALS with SO_PASSCRED. */
            int on = 1;
            CHECK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
            CHECK(write(sv[0], "c", 1));
            char c;
            struct iovec v = { &c, 1 };
            char control[64];
            struct msghdr m = { 0 };
            m.msg_iov = &v; m.msg_iovlen = 1; m.msg_control = control; m.msg_controllen = sizeof control;
            CHECK(recvmsg(sv[1], &m, 0));
            struct cmsghdr *h = CMSG_FIRSTHDR(&m);
            struct ucred cr;
            memcpy(&cr, CMSG_DATA(h), sizeof cr);
            SAY("type %d pid mine %d uid %d\n", h->cmsg_type, cr.pid == getpid(), cr.uid == getuid());
            return 0;
        }
        """;

    private const string Readiness = """
        int main(void)
        {
            int sv[2];
            CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
            pid_t child = fork();
            if (child == 0) {
                char ack;
                usleep(50000);
                write(sv[1], "late", 4);
                read(sv[1], &ack, 1);
                usleep(50000);
                write(sv[1], "x", 1);
                _exit(0);
            }
            struct pollfd p = { sv[0], POLLIN, 0 };
            CHECK(poll(&p, 1, 5000));
            SAY("revents in %d\n", (p.revents & POLLIN) != 0);
            show_read("poll woke for", sv[0], 0);
            CHECK(write(sv[0], "!", 1));
            fd_set r;
            FD_ZERO(&r);
            FD_SET(sv[0], &r);
            CHECK(select(sv[0] + 1, &r, NULL, NULL, NULL));
            show_read("select woke for", sv[0], 0);
            waitpid(child, NULL, 0);

            /* MSG_WAITALL waits for the whole buffer; blocking reads see data from another process. */
            child = fork();
            if (child == 0) {
                for (int i = 0; i < 4; i++) { usleep(20000); write(sv[1], "ab", 2); }
                _exit(0);
            }
            char b[8];
            CHECK(recv(sv[0], b, 8, MSG_WAITALL));
            SAY("%.8s\n", b);
            waitpid(child, NULL, 0);

            /* A full stream blocks the writer until the reader drains it. */
            CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK));
            static char big[65536];
            long total = 0, n;
            while ((n = write(sv[1], big, sizeof big)) > 0) total += n;
            SAY("full after some data: %d (%s)\n", total > 0, errname(errno));
            show_poll("full writer", sv[1]);
            child = fork();
            if (child == 0) {
                usleep(50000);
                long left = total;
                while (left > 0) { long r = read(sv[0], big, left < (long)sizeof big ? left : (long)sizeof big); if (r <= 0) break; left -= r; }
                _exit(0);
            }
            CHECK(fcntl(sv[1], F_SETFL, 0));
            CHECK(write(sv[1], "z", 1));
            waitpid(child, NULL, 0);
            show_read("last", sv[0], 0);

            /* A blocking accept is woken by a connecting child; SIGALRM interrupts a blocking read. */
            int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
            struct sockaddr_un a;
            CHECK(bind(l, (struct sockaddr *)&a, name(&a, "@umos-readiness")));
            CHECK(listen(l, 0));
            child = fork();
            if (child == 0) {
                usleep(50000);
                int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
                connect(c, (struct sockaddr *)&a, name(&a, "@umos-readiness"));
                send(c, "packet", 6, 0);
                usleep(50000);
                _exit(0);
            }
            int c = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            SAY("accepted %d flags nonblock %d cloexec %d\n", c >= 0, (fcntl(c, F_GETFL) & O_NONBLOCK) != 0, fcntl(c, F_GETFD));
            CHECK(fcntl(c, F_SETFL, 0));
            show_read("seqpacket", c, 0);
            show_read("eof", c, 0);
            waitpid(child, NULL, 0);
            struct sigaction sa = { 0 };
            sa.sa_handler = on_signal;
            sigaction(SIGALRM, &sa, NULL);
            alarm(1);
            show_read("interrupted", sv[0], 0);
            SAY("signal %d\n", caught);

            /* SO_RCVTIMEO: EAGAIN once it passes, EINTR for a signal even with SA_RESTART. */
            struct timeval tv = { 0, 200000 }, back;
            socklen_t tl = sizeof back;
            CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
            CHECK(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &back, &tl));
            SAY("timeout %ld.%06ld len %d\n", (long)back.tv_sec, (long)back.tv_usec, (int)tl);
            show_read("timed out", sv[0], 0);
            tv.tv_sec = 3;
            CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
            sa.sa_flags = SA_RESTART;
            sigaction(SIGALRM, &sa, NULL);
            alarm(1);
            show_read("interrupted with a timeout", sv[0], 0);
            tv.tv_usec = 1000000;
            CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
            CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, 8));
            return 0;
        }
        """;

    private const string Unconnected = """
        int main(void)
        {
            signal(SIGPIPE, on_signal);
            int sv[2];
            char c;
            CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
            CHECK(close(sv[1]));
            CHECK(send(sv[0], "x", 1, 0));
            SAY("signal %d\n", caught);
            CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
            CHECK(shutdown(sv[0], SHUT_WR));
            CHECK(send(sv[0], "x", 1, 0));
            CHECK(recv(sv[1], &c, 1, MSG_DONTWAIT));
            CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
            CHECK(shutdown(sv[1], SHUT_RD));
            CHECK(send(sv[0], "x", 1, 0));
            CHECK(recv(sv[1], &c, 1, MSG_DONTWAIT));
            CHECK(recv(sv[1], &c, 1, 0));
            SAY("signal %d\n", caught);
            int s = socket(AF_UNIX, SOCK_STREAM, 0);
            show_poll("unconnected stream", s);
            CHECK(read(s, &c, 1));
            CHECK(write(s, "x", 1));
            CHECK(getpeername(s, NULL, NULL));
            struct sockaddr_un a;
            CHECK(sendto(s, "x", 1, 0, (struct sockaddr *)&a, name(&a, "x.sock")));
            s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
            show_poll("unconnected seqpacket", s);
            CHECK(read(s, &c, 1));
            CHECK(write(s, "x", 1));
            s = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
            show_poll("unconnected dgram", s);
            CHECK(read(s, &c, 1));
            CHECK(write(s, "x", 1));
            CHECK(listen(s, 1));
            CHECK(accept(s, NULL, NULL));
            SAY("signal %d\n", caught);

            /* A full backlog: non-blocking connect(2) says EAGAIN (unix(7)). */
            int l = socket(AF_UNIX, SOCK_STREAM, 0);
            CHECK(bind(l, (struct sockaddr *)&a, name(&a, "@umos-backlog")));
            CHECK(listen(l, 0));
            for (int i = 0; i < 3; i++) {
                int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
                CHECK(connect(c, (struct sockaddr *)&a, name(&a, "@umos-backlog")));
            }
            show_poll("listener with a pending connection", l);
            CHECK(accept(l, NULL, NULL) >= 0);
            struct ucred cr;
            socklen_t cl = sizeof cr;
            CHECK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cl));
            SAY("unconnected peercred %d %d %d\n", cr.pid, (int)cr.uid, (int)cr.gid);
            return 0;
        }
        """;

    private void Run(string program) => SyscallPrograms.AssertSameAsNative(Common + "\n" + program, compiler);

    [Test]
    public void StreamSocketpair() => Run(StreamPair);

    [Test]
    public void DatagramAndSeqpacketBoundaries() => Run(MessagePairs);

    [Test]
    public void ServerAndClientOverPathAndAbstractNames() => Run(ServerClient);

    [Test]
    public void DatagramAddresses() => Run(Datagrams);

    [Test]
    public void PassingFilesAndCredentials() => Run(Rights);

    [Test]
    public void BlockingAndReadiness() => Run(Readiness);

    [Test]
    public void UnconnectedAndShutDown() => Run(Unconnected);
}
