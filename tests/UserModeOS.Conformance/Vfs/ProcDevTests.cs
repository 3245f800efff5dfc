using UserModeOS.Conformance.Harness;
using UserModeOS.Conformance.SyscallTests;

namespace UserModeOS.Conformance.Vfs;

/// <summary>Our own /dev and /proc: device semantics compared with the host kernel, and procfs contents.</summary>
[TestFixture]
public sealed class ProcDevTests
{
    private const string DeviceSource = """
        #include <sys/statfs.h>
        #include <sys/sysmacros.h>

        int main(void)
        {
            char buf[64];
            struct stat st;
            const char *devs[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" };
            for (int i = 0; i < 5; i++) {
                CHECK(stat(devs[i], &st));
                SAY("%s: chr %d %d:%d perm %o\n", devs[i], S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev), st.st_mode & 0777);
                int fd = open(devs[i], O_RDWR);
                memset(buf, 0x55, sizeof buf);
                CHECK(read(fd, buf, sizeof buf));
                /* random data may start with a zero byte: only the other devices' bytes are compared */
                if (i < 3) SAY("first byte %s\n", buf[0] == 0 ? "zero" : buf[0] == 0x55 ? "untouched" : "data");
                CHECK(write(fd, "hello", 5));
                CHECK(lseek(fd, 100, SEEK_SET));
                CHECK(pread(fd, buf, 8, 1000));
                CHECK(pwrite(fd, "x", 1, 0));
                CHECK(ftruncate(fd, 0));
                close(fd);
            }
            /* urandom gives different data each time */
            char a[32], b[32];
            int fd = open("/dev/urandom", O_RDONLY);
            read(fd, a, 32); read(fd, b, 32);
            SAY("urandom differs: %d\n", memcmp(a, b, 32) != 0);
            close(fd);
            CHECK(open("/dev/null/x", O_RDONLY));
            CHECK(open("/dev/nonexistent", O_RDONLY));
            CHECK(lstat("/dev/stdout", &st)); SAY("stdout link: %d\n", S_ISLNK(st.st_mode));
            CHECK(lstat("/dev/fd", &st)); SAY("fd link: %d\n", S_ISLNK(st.st_mode));
            CHECK(readlink("/dev/fd", buf, sizeof buf));
            CHECK(readlink("/dev/stderr", buf, sizeof buf));
            CHECK(stat("/dev/fd/2", &st) == 0);
            CHECK(stat("/dev/shm", &st)); SAY("shm sticky %d perm %o\n", (st.st_mode & 01000) != 0, st.st_mode & 0777);
            struct statfs sf;
            CHECK(statfs("/dev/shm", &sf)); SAY("shm is tmpfs: %d\n", sf.f_type == 0x01021994);
            CHECK(statfs("/proc", &sf)); SAY("proc is procfs: %d\n", sf.f_type == 0x9fa0);
            CHECK(statfs("/proc/self", &sf)); SAY("proc/self is procfs: %d\n", sf.f_type == 0x9fa0);
            /* /dev/shm holds files */
            fd = open("/dev/shm/umos-test", O_RDWR | O_CREAT | O_TRUNC, 0600);
            CHECK(write(fd, "shared", 6));
            CHECK(pread(fd, buf, 6, 0));
            CHECK(fstat(fd, &st)); SAY("size %ld\n", (long)st.st_size);
            CHECK(unlink("/dev/shm/umos-test"));
            CHECK(fstat(fd, &st)); SAY("nlink %ld\n", (long)st.st_nlink);
            close(fd);
            return 0;
        }
        """;

    [TestCase("gcc")]
    [TestCase("musl-gcc")]
    public void DevicesBehaveAsLinux(string compiler) => SyscallPrograms.AssertSameAsNative(DeviceSource, compiler);

    private const string ProcSource = """
        #include <ctype.h>

        static char *slurp(const char *path)
        {
            static char buf[65536];
            int fd = open(path, O_RDONLY);
            if (fd < 0) return NULL;
            int n = 0, r;
            while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += r;
            buf[n] = 0;
            close(fd);
            return buf;
        }

        static int field(const char *text, const char *name)
        {
            const char *p = strstr(text, name);
            return p ? atoi(p + strlen(name)) : -1;
        }

        int main(int argc, char **argv)
        {
            char buf[4096], path[64];
            char *s = slurp("/proc/self/status");
            SAY("status Pid matches: %d\n", field(s, "\nPid:\t") == getpid());
            SAY("status PPid matches: %d\n", field(s, "\nPPid:\t") == getppid());
            SAY("status Tgid matches: %d\n", field(s, "\nTgid:\t") == getpid());
            SAY("status Threads: %d\n", field(s, "\nThreads:\t"));
            SAY("status has Name, State, Uid, VmSize, SigBlk: %d %d %d %d %d\n", strncmp(s, "Name:\t", 6) == 0, strstr(s, "\nState:\t") != NULL,
                strstr(s, "\nUid:\t") != NULL, strstr(s, "\nVmSize:") != NULL, strstr(s, "\nSigBlk:\t") != NULL);
            s = slurp("/proc/self/stat");
            SAY("stat starts with pid: %d\n", atoi(s) == getpid());
            char *close_paren = strrchr(s, ')');
            int fields = 0;
            for (char *p = close_paren + 1; *p; p++) if (*p == ' ') fields++;
            SAY("stat fields after comm: %d state %c\n", fields, close_paren[2]);
            s = slurp("/proc/self/statm");
            SAY("statm numbers: %d\n", isdigit((unsigned char)s[0]));
            s = slurp("/proc/self/cmdline");
            SAY("cmdline is argv[0]: %d\n", strcmp(s, argv[0]) == 0);
            s = slurp("/proc/self/maps");
            SAY("maps has stack: %d, an r-xp mapping: %d, a [heap]: %d\n", strstr(s, "[stack]") != NULL, strstr(s, " r-xp ") != NULL, strstr(s, "[heap]") != NULL);
            long n = readlink("/proc/self", buf, sizeof buf - 1); buf[n > 0 ? n : 0] = 0;
            SAY("self -> pid: %d\n", atoi(buf) == getpid());
            n = readlink("/proc/thread-self", buf, sizeof buf - 1); buf[n > 0 ? n : 0] = 0;
            snprintf(path, sizeof path, "%d/task/%d", getpid(), getpid());
            SAY("thread-self: %d\n", strcmp(buf, path) == 0);
            snprintf(path, sizeof path, "/proc/%d/task/%d/comm", getpid(), getpid());
            s = slurp(path);
            SAY("task comm ends in newline: %d\n", s != NULL && s[strlen(s) - 1] == '\n');
            n = readlink("/proc/self/root", buf, sizeof buf - 1); buf[n > 0 ? n : 0] = 0;
            SAY("root: %s\n", buf);
            int fd = open("/proc/self/fd/1", O_WRONLY);
            CHECK(fd >= 0);
            CHECK(write(fd, "through fd link\n", 16));
            close(fd);
            SAY("uptime parses: %d\n", atof(slurp("/proc/uptime")) >= 0);
            s = slurp("/proc/loadavg");
            SAY("loadavg fields: %d\n", sscanf(s, "%*f %*f %*f %*d/%*d %*d") == 0);
            SAY("cpuinfo has processor and flags: %d %d\n", strstr(slurp("/proc/cpuinfo"), "processor\t: 0") != NULL, strstr(slurp("/proc/cpuinfo"), "\nflags\t\t: ") != NULL);
            SAY("meminfo MemTotal: %d\n", strncmp(slurp("/proc/meminfo"), "MemTotal:", 9) == 0);
            SAY("version: %d\n", strncmp(slurp("/proc/version"), "Linux version ", 14) == 0);
            SAY("ostype: %s", slurp("/proc/sys/kernel/ostype"));
            SAY("overcommit: %s", slurp("/proc/sys/vm/overcommit_memory"));
            SAY("mounts has proc: %d\n", strstr(slurp("/proc/mounts"), " /proc proc ") != NULL);
            SAY("mountinfo has /proc: %d\n", strstr(slurp("/proc/self/mountinfo"), " /proc ") != NULL);
            SAY("filesystems has tmpfs: %d\n", strstr(slurp("/proc/filesystems"), "\ttmpfs\n") != NULL);
            CHECK(open("/proc/self/status", O_WRONLY));
            CHECK(open("/proc/nonexistent", O_RDONLY));
            CHECK(open("/proc/self/fd/999", O_RDONLY));
            CHECK(mkdir("/proc/newdir", 0755));
            struct stat st;
            CHECK(stat("/proc/self/fd/0", &st) == 0);
            CHECK(lstat("/proc/self/exe", &st)); SAY("exe is a link: %d\n", S_ISLNK(st.st_mode));
            CHECK(stat("/proc/self", &st)); SAY("self is a dir: %d\n", S_ISDIR(st.st_mode));
            return 0;
        }
        """;

    [TestCase("gcc")]
    [TestCase("musl-gcc")]
    public void ProcfsAsLinux(string compiler) => SyscallPrograms.AssertSameAsNative(ProcSource, compiler);

    [Test]
    public void BusyboxReadsProc()
    {
        Assume.That(File.Exists("/bin/busybox"), "busybox-static is not installed");
        Compare.AssertSameAsNative(["/bin/busybox", "readlink", "/proc/self/exe"]);
        Compare.AssertSameAsNative(["/bin/busybox", "cat", "/proc/sys/kernel/ostype", "/proc/sys/vm/overcommit_memory"]);
        Compare.AssertSameAsNative(["/bin/busybox", "sh", "-c", "read x < /dev/null; echo $?; head -c 10 /dev/zero | wc -c; echo > /dev/full; echo $?"]);
        var run = Guest.Run(["/bin/busybox", "cat", "/proc/self/status"]);
        Assert.That(run.StdoutText, Does.StartWith("Name:\tbusybox\n"));
        Assert.That(run.StdoutText, Does.Contain("\nState:\tR (running)\n"));
        run = Guest.Run(["/bin/busybox", "cat", "/sys/devices/system/cpu/online"]);
        Assert.That(run.StdoutText, Is.EqualTo(Environment.ProcessorCount == 1 ? "0\n" : $"0-{Environment.ProcessorCount - 1}\n"));
    }
}
