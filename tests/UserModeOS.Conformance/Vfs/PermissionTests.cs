using UserModeOS.Conformance.SyscallTests;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// Non-root guests, compared with the host kernel (the native side starts as root in its temp
/// folder and drops to other ids): search, read and write permission (EACCES), the sticky
/// bit, ownership rules of chmod/chown/utimensat (EPERM), protected hard links, access(2)
/// with the real ids, kill(2) permission, the set*id transitions of credentials(7),
/// supplementary groups, and a set-user-ID program (AT_SECURE).
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class PermissionTests(string compiler)
{
    [Test]
    public void NonRootUsersLikeLinux()
    {
        Assume.That(Environment.UserName == "root", "dropping to other users natively needs root");
        SyscallPrograms.AssertSameAsNative(Source, compiler);
    }

    /// <summary>
    /// /proc/[pid] as another user sees it: files belong to the process's effective user while
    /// it is dumpable and to root after it changed ids (its world-readable directories always
    /// to it), so mode bits refuse others, and a process may always look into its own fd/.
    /// </summary>
    [Test]
    public void ProcFilesFollowDumpableOwnership()
    {
        Assume.That(Environment.UserName == "root", "dropping to other users natively needs root");
        SyscallPrograms.AssertSameAsNative(ProcSource, compiler);
    }

    private const string ProcSource = """
        #include <sys/prctl.h>
        #include <sys/wait.h>
        #include <grp.h>
        static char pp[64];
        static const char *P(const char *fmt){ static char b[128]; snprintf(b, sizeof b, fmt, pp); return b; }
        static void st(const char *name, const char *p){ struct stat s; if (lstat(p,&s)==0) printf("%s %o %d:%d\n", name, s.st_mode&07777, s.st_uid, s.st_gid); else printf("%s %s\n", name, strerror(errno)); }
        static void op(const char *name, const char *p){ int fd=open(p,O_RDONLY); printf("open %s: %s\n", name, fd>=0?"ok":strerror(errno)); if(fd>=0)close(fd);}
        static void all(void){
          printf("dumpable %d\n", prctl(PR_GET_DUMPABLE));
          st("self", "/proc/self"); st("self dir", "/proc/self/"); st("self/status", "/proc/self/status"); st("self/environ", "/proc/self/environ"); st("self/fd", "/proc/self/fd");
          st("parent dir", P("/proc/%s")); st("parent environ", P("/proc/%s/environ")); st("parent fd", P("/proc/%s/fd"));
          op("self/environ", "/proc/self/environ"); op("self/fd", "/proc/self/fd"); op("self/fd/1", "/proc/self/fd/1"); op("parent environ", P("/proc/%s/environ")); op("parent fd", P("/proc/%s/fd")); op("parent status", P("/proc/%s/status"));
          char l[256]; ssize_t n;
          n = readlink("/proc/self/exe", l, sizeof l); printf("readlink self/exe: %s\n", n > 0 ? "ok" : strerror(errno));
          n = readlink(P("/proc/%s/exe"), l, sizeof l); printf("readlink parent exe: %s\n", n > 0 ? "ok" : strerror(errno));
          n = readlink(P("/proc/%s/fd/1"), l, sizeof l); printf("readlink parent fd/1: %s\n", n > 0 ? "ok" : strerror(errno));
          struct stat cs; printf("stat parent cwd/.: %s\n", stat(P("/proc/%s/cwd/."), &cs) == 0 ? "ok" : strerror(errno));
        }
        int main(){
          snprintf(pp, sizeof pp, "%d", getpid());
          if (fork()==0) {
            setgroups(0,0); setgid(1000); setuid(1000);
            all();
            prctl(PR_SET_DUMPABLE, 1);
            all();
            fflush(stdout);
            if (getenv("AGAIN")==0){ setenv("AGAIN","1",1); execl("/proc/self/exe", "x", NULL);} 
            _exit(1);
          }
          wait(NULL);
        }
        """;

    /// <summary>
    /// xattr(7) permissions on tmpfs (/dev/shm on both sides) and on the host folder: user.*
    /// attributes need read or write permission and ownership on a sticky directory; trusted.*
    /// ones are root's only.
    /// </summary>
    [Test]
    public void ExtendedAttributePermissions()
    {
        Assume.That(Environment.UserName == "root", "dropping to other users natively needs root");
        Assume.That(Directory.Exists("/dev/shm"), "no /dev/shm tmpfs on this host");
        SyscallPrograms.AssertSameAsNative(XattrSource, compiler);
    }

    private const string XattrSource = """
        #include <sys/xattr.h>
        #include <sys/wait.h>
        #include <grp.h>

        static void get(const char *p, const char *n)
        {
            char v[64] = {0};
            errno = 0;
            long r = getxattr(p, n, v, sizeof v - 1);
            if (r < 0) SAY("get %s %s: %s\n", p, n, errname(errno)); else SAY("get %s %s: %s\n", p, n, v);
        }

        static void list(const char *p)
        {
            char b[256];
            long r = listxattr(p, b, sizeof b);
            if (r < 0) { SAY("list %s: %s\n", p, errname(errno)); return; }
            SAY("list %s:", p);
            for (char *q = b; q < b + r; q += strlen(q) + 1) SAY(" %s", q);
            SAY("\n");
        }

        /* Runs the scenario in a new directory below base: tmpfs, then the host folder. */
        static void scenario(const char *base)
        {
            char dir[256], name[64];
            snprintf(name, sizeof name, "umos-xattr-%d", getpid());
            snprintf(dir, sizeof dir, "%s/%s", base, name);
            CHECK(mkdir(dir, 0755));
            CHECK(chdir(dir));
            close(open("mine", O_CREAT | O_WRONLY, 0644));
            close(open("secret", O_CREAT | O_WRONLY, 0600));
            close(open("open", O_CREAT | O_WRONLY, 0666)); chmod("open", 0666);
            mkdir("sticky", 0777); chmod("sticky", 01777);
            CHECK(setxattr("mine", "user.a", "1", 1, 0));
            CHECK(setxattr("mine", "trusted.t", "2", 1, 0));
            CHECK(setxattr("secret", "user.s", "3", 1, 0));
            CHECK(setxattr("sticky", "user.d", "4", 1, 0));
            fflush(stdout);
            if (fork() == 0) {
                setgroups(0, NULL); setgid(1000); setuid(1000);
                get("mine", "user.a");
                get("mine", "trusted.t");
                list("mine");
                get("secret", "user.s");
                list("secret");
                CHECK(setxattr("mine", "user.b", "5", 1, 0));
                CHECK(setxattr("open", "user.b", "5", 1, 0));
                get("open", "user.b");
                CHECK(setxattr("open", "trusted.x", "5", 1, 0));
                CHECK(removexattr("mine", "user.a"));
                CHECK(setxattr("sticky", "user.e", "6", 1, 0));
                CHECK(removexattr("sticky", "user.d"));
                get("sticky", "user.d");
                fflush(stdout);
                _exit(0);
            }
            wait(NULL);
            list("mine");
            list("open");
            unlink("mine"); unlink("secret"); unlink("open"); rmdir("sticky");
            CHECK(chdir(".."));
            CHECK(rmdir(name));
        }

        int main(void)
        {
            char cwd[4096];
            if (!getcwd(cwd, sizeof cwd)) return 1;
            CHECK(chmod(".", 0755));
            SAY("-- tmpfs\n");
            scenario("/dev/shm");
            SAY("-- host folder\n");
            scenario(cwd);
            return 0;
        }
        """;

    internal const string Source = """
        #include <sys/wait.h>
        #include <sys/auxv.h>
        #include <grp.h>
        #include <sys/fsuid.h>
        #include <sys/sysmacros.h>

        static void drop(uid_t u, gid_t g)
        {
            CHECK(setgroups(0, NULL));
            CHECK(setgid(g));
            CHECK(setuid(u));
        }

        static void ids(const char *what)
        {
            uid_t r, e, s; gid_t gr, ge, gs;
            getresuid(&r, &e, &s); getresgid(&gr, &ge, &gs);
            SAY("%s: uid %d %d %d fsuid %d gid %d %d %d\n", what, r, e, s, setfsuid(-1), gr, ge, gs);
        }

        static void owner(const char *path)
        {
            struct stat st;
            if (lstat(path, &st) == 0) SAY("%s: owner %d:%d mode %o\n", path, st.st_uid, st.st_gid, st.st_mode & 07777);
            else SAY("%s: %s\n", path, errname(errno));
        }

        static int run(void (*body)(void))
        {
            fflush(stdout);
            pid_t p = fork();
            if (p == 0) { body(); fflush(stdout); _exit(0); }
            int st; waitpid(p, &st, 0);
            return st;
        }

        static void as_user(void)
        {
            drop(1000, 1000);
            ids("dropped");
            CHECK(setuid(0));
            CHECK(seteuid(0));
            CHECK(open("secret", O_RDONLY));
            CHECK(open("pub", O_WRONLY));
            int fd = open("pub", O_RDONLY); SAY("open pub ro: %d\n", fd >= 0); close(fd);
            CHECK(open("pub", O_RDONLY | O_TRUNC));
            struct stat st;
            CHECK(stat("priv/inner", &st));
            CHECK(stat("priv", &st));
            CHECK(open("priv", O_RDONLY | O_DIRECTORY));
            CHECK(mkdir("rodir/new", 0755));
            CHECK(mkdir("shared/mine", 0755));
            owner("shared/mine");
            fd = open("shared/myfile", O_CREAT | O_WRONLY, 0640); SAY("create in sticky: %d\n", fd >= 0); close(fd);
            owner("shared/myfile");
            CHECK(unlink("shared/rootfile"));
            CHECK(rename("shared/rootfile", "shared/moved"));
            CHECK(rename("shared/myfile", "shared/myfile2"));
            CHECK(unlink("shared/myfile2"));
            CHECK(unlink("pub"));
            CHECK(chmod("pub", 0666));
            CHECK(chmod("shared/mine", 02755));
            owner("shared/mine");
            CHECK(chown("shared/mine", 0, -1));
            CHECK(chown("shared/mine", -1, 0));
            CHECK(chown("shared/mine", 1000, 1000));
            CHECK(chown("pub", -1, -1));
            CHECK(utimensat(AT_FDCWD, "pub", NULL, 0));
            struct timespec ts[2] = {{1, 0}, {2, 0}};
            CHECK(utimensat(AT_FDCWD, "pub", ts, 0));
            struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
            CHECK(utimensat(AT_FDCWD, "pub", omit, 0));
            CHECK(utimensat(AT_FDCWD, "world", NULL, 0));
            CHECK(utimensat(AT_FDCWD, "world", ts, 0));
            CHECK(truncate("pub", 0));
            CHECK(truncate("world", 1));
            CHECK(access("pub", R_OK));
            CHECK(access("pub", W_OK));
            CHECK(access("pub", X_OK));
            CHECK(access("priv/inner", F_OK));
            CHECK(chdir("priv"));
            CHECK(chdir("rodir"));
            CHECK(chdir(".."));
            CHECK(chroot("."));
            CHECK(link("pub", "shared/hard"));
            CHECK(link("world", "shared/hard2"));
            CHECK(mknod("shared/dev", S_IFCHR | 0600, makedev(1, 3)));
            CHECK(mkfifo("shared/fifo", 0600));
            owner("shared/fifo");
            CHECK(symlink("pub", "shared/sym"));
            owner("shared/sym");
            CHECK(kill(getppid(), 0));
            CHECK(kill(1, 0));
            CHECK(execl("./rootonly", "rootonly", NULL));
            CHECK(open("shared", O_RDONLY | O_DIRECTORY) >= 0);
        }

        static void transitions(void)
        {
            CHECK(setresuid(1000, 1001, 0));
            ids("resuid");
            CHECK(seteuid(0));
            ids("seteuid 0");
            CHECK(setreuid(-1, 1002));
            ids("setreuid -1 1002");
            CHECK(setreuid(1001, -1));
            ids("setreuid 1001");
            CHECK(setuid(0));
            ids("setuid 0 again");
            CHECK(setfsuid(1003));
            ids("setfsuid");
            CHECK(setresuid(5, 5, 5));
            ids("all 5");
            CHECK(setresuid(6, -1, -1));
            CHECK(setfsuid(7));
            ids("still 5");
            gid_t gl[2] = {44, 55};
            CHECK(setgroups(2, gl));
        }

        static void groups(void)
        {
            gid_t gl[3] = {300, 100, 200};
            CHECK(setgroups(3, gl));
            CHECK(getgroups(0, NULL));
            gid_t out[8];
            int n = getgroups(8, out);
            for (int i = 0; i < n; i++) SAY("group %d\n", out[i]);
            CHECK(getgroups(1, out));
            CHECK(setgid(1000));
            CHECK(setuid(1000));
            CHECK(open("grp", O_RDONLY) >= 0);
            CHECK(chown("shared/g", -1, 200));
            CHECK(chown("shared/g", -1, 999));
            owner("shared/g");
        }

        static void suid(void)
        {
            drop(1000, 1000);
            fflush(stdout);
            pid_t p = fork();
            if (p == 0) { execl("./suidprog", "suidprog", "whoami", NULL); _exit(9); }
            int st; waitpid(p, &st, 0);
            SAY("suid child exit %d\n", WEXITSTATUS(st));
        }

        int main(int argc, char **argv)
        {
            if (argc > 1) {
                ids("whoami");
                SAY("secure %ld\n", getauxval(AT_SECURE));
                CHECK(open("secret", O_RDONLY) >= 0);
                return 0;
            }
            umask(022);
            CHECK(chmod(".", 0755));
            mkdir("priv", 0700); close(open("priv/inner", O_CREAT | O_WRONLY, 0644));
            close(open("secret", O_CREAT | O_WRONLY, 0600));
            close(open("pub", O_CREAT | O_WRONLY, 0644));
            close(open("world", O_CREAT | O_WRONLY, 0666)); chmod("world", 0666);
            close(open("grp", O_CREAT | O_WRONLY, 0640)); chown("grp", 0, 200);
            mkdir("rodir", 0555);
            mkdir("shared", 0777); chmod("shared", 01777);
            close(open("shared/rootfile", O_CREAT | O_WRONLY, 0666));
            close(open("shared/g", O_CREAT | O_WRONLY, 0644)); chown("shared/g", 1000, 1000);
            /* a program only root may run, and a set-user-ID copy of ourselves */
            char buf[1 << 16]; int in = open("/proc/self/exe", O_RDONLY), o1 = open("rootonly", O_CREAT | O_WRONLY, 0700), o2 = open("suidprog", O_CREAT | O_WRONLY, 0755);
            int n; while ((n = read(in, buf, sizeof buf)) > 0) { write(o1, buf, n); write(o2, buf, n); }
            close(in); close(o1); close(o2);
            CHECK(chmod("suidprog", 04755));
            SAY("user: %x\n", run(as_user));
            SAY("transitions: %x\n", run(transitions));
            SAY("groups: %x\n", run(groups));
            SAY("suid: %x\n", run(suid));
            ids("parent");
            return 0;
        }
        """;
}
