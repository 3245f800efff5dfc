using UserModeOS.Conformance.SyscallTests;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// chroot(2) compared with the host kernel (the native side runs as root in its temp folder):
/// walks start at the new root, ".." stops there, absolute symlinks restart there, the cwd
/// and getcwd follow, fchdir to a directory opened before the chroot lands below the new
/// root, children inherit the root.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class ChrootTests(string compiler)
{
    [Test]
    public void ChrootLikeLinux()
    {
        Assume.That(Environment.UserName == "root", "chroot(2) natively needs root");
        SyscallPrograms.AssertSameAsNative(Source, compiler);
    }

    private const string Source = """
        #include <sys/wait.h>

        static void show_cwd(const char *when)
        {
            char buf[4096];
            if (getcwd(buf, sizeof buf)) SAY("%s: cwd %s\n", when, buf); else SAY("%s: getcwd %s\n", when, errname(errno));
        }

        static void show_file(const char *path)
        {
            char buf[128] = {0};
            int fd = open(path, O_RDONLY);
            if (fd < 0) { SAY("open %s: %s\n", path, errname(errno)); return; }
            read(fd, buf, sizeof buf - 1);
            close(fd);
            SAY("%s holds %s", path, buf);
        }

        int main(void)
        {
            mkdir("jail", 0755);
            mkdir("jail/sub", 0755);
            mkdir("jail/sub/deeper", 0755);
            int fd = open("jail/sub/f", O_WRONLY | O_CREAT | O_TRUNC, 0644); write(fd, "inside\n", 7); close(fd);
            fd = open("outside.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644); write(fd, "outside\n", 8); close(fd);
            symlink("/sub/f", "jail/abs");
            symlink("../../../../../outside.txt", "jail/esc");
            symlink("/", "jail/rootlink");
            int sub = open("jail/sub", O_RDONLY | O_DIRECTORY);

            CHECK(chroot("missing"));
            CHECK(chroot("outside.txt"));
            CHECK(chdir("jail"));
            CHECK(chroot("."));
            show_cwd("after chroot .");
            CHECK(access("/outside.txt", F_OK));
            CHECK(access("/../outside.txt", F_OK));
            show_file("/sub/f");
            show_file("/../../../sub/f");
            show_file("abs");
            show_file("esc");
            show_file("rootlink/sub/f");
            show_file("rootlink/../../sub/f");
            CHECK(chdir("/sub/deeper"));
            show_cwd("in deeper");
            CHECK(chdir("../../../.."));
            show_cwd("after ../../../..");
            CHECK(fchdir(sub));
            show_cwd("after fchdir to sub");
            show_file("f");
            show_file("../sub/f");
            int at = openat(sub, "../abs", O_RDONLY);
            SAY("openat(sub, ../abs) %s\n", at >= 0 ? "ok" : errname(errno));
            if (at >= 0) close(at);
            CHECK(chroot("deeper"));
            CHECK(chdir("/"));
            show_cwd("after chdir /");
            CHECK(access("/f", F_OK));
            CHECK(mkdir("/made", 0755));
            CHECK(rmdir("/"));
            pid_t pid = fork();
            if (pid == 0) {
                show_cwd("child");
                CHECK(access("/made", F_OK));
                CHECK(access("/../f", F_OK));
                _exit(0);
            }
            int status;
            waitpid(pid, &status, 0);
            CHECK(rmdir("/made"));
            return 0;
        }
        """;
}
