using UserModeOS.Conformance.SyscallTests;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// Names held while they change (Linux's dentries): the cwd, directory fds, open files and
/// mappings follow renames of themselves and of directories above them (RENAME_EXCHANGE
/// included), and show " (deleted)" once unlinked or renamed over; getcwd in a removed
/// directory gives ENOENT. Compared with the host kernel in a host folder and in tmpfs.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class HeldNamesTests(string compiler)
{
    [Test]
    public void NamesFollowRenamesAndUnlinks()
    {
        Assume.That(Directory.Exists("/dev/shm"), "no /dev/shm tmpfs on this host");
        SyscallPrograms.AssertSameAsNative(Source, compiler);
    }

    private const string Source = """
        #include <sys/mman.h>

        static void link_of(const char *what, int fd)
        {
            char p[64], l[4096];
            snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(p, l, sizeof l - 1);
            if (n < 0) { SAY("%s: %s\n", what, errname(errno)); return; }
            l[n] = 0;
            char *top = strstr(l, "/top");
            SAY("%s: %s\n", what, top ? top : l);
        }

        static void cwd_is(const char *what)
        {
            char b[4096];
            if (!getcwd(b, sizeof b)) { SAY("%s: getcwd %s\n", what, errname(errno)); return; }
            char *top = strstr(b, "/top");
            SAY("%s: cwd %s\n", what, top ? top : b);
        }

        static void maps_mention(const char *what, const char *name)
        {
            char line[512]; int found = 0, deleted = 0;
            FILE *f = fopen("/proc/self/maps", "r");
            while (fgets(line, sizeof line, f))
                if (strstr(line, name)) { found = 1; deleted |= strstr(line, "(deleted)") != NULL; }
            fclose(f);
            SAY("%s: maps names %s: %d, deleted: %d\n", what, name, found, deleted);
        }

        static void scenario(void)
        {
            CHECK(mkdir("top", 0755));
            CHECK(chdir("top"));
            /* The cwd follows a rename of itself. */
            CHECK(mkdir("d", 0755));
            CHECK(chdir("d"));
            CHECK(rename("../d", "../e"));
            cwd_is("after renaming the cwd");
            int x = open("x", O_CREAT | O_WRONLY, 0644);
            SAY("create in it: %s\n", x >= 0 ? "ok" : errname(errno));
            CHECK(chdir(".."));
            cwd_is("back up");

            /* Directory fds and files below a renamed directory. */
            CHECK(mkdir("p", 0755));
            int dfd = open("p", O_RDONLY | O_DIRECTORY);
            int f = open("p/file", O_CREAT | O_RDWR, 0644);
            CHECK(rename("p", "q"));
            link_of("dirfd after rename", dfd);
            link_of("file below it", f);
            int y = openat(dfd, "y", O_CREAT | O_WRONLY, 0644);
            SAY("openat renamed dirfd: %s\n", y >= 0 ? "ok" : errname(errno));
            CHECK(access("q/y", F_OK));

            /* Exchange, and renaming over an open file. */
            CHECK(mkdir("r", 0755));
            int g = open("r/g", O_CREAT | O_RDWR, 0644);
            CHECK(syscall(SYS_renameat2, AT_FDCWD, "q", AT_FDCWD, "r", 2 /* RENAME_EXCHANGE */));
            link_of("file after exchange", f);
            link_of("other after exchange", g);
            link_of("dirfd after exchange", dfd);
            int victim = open("victim", O_CREAT | O_RDWR, 0644);
            close(open("winner", O_CREAT | O_RDWR, 0644));
            CHECK(rename("winner", "victim"));
            link_of("renamed over", victim);

            /* Unlinked files and mappings. */
            int m = open("mapped", O_CREAT | O_RDWR, 0644);
            CHECK(ftruncate(m, 4096));
            void *map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, m, 0);
            SAY("mmap: %s\n", map != MAP_FAILED ? "ok" : errname(errno));
            close(m);
            CHECK(rename("mapped", "moved-map"));
            maps_mention("after rename", "moved-map");
            CHECK(unlink("moved-map"));
            maps_mention("after unlink", "moved-map");
            CHECK(unlink("r/file"));
            link_of("unlinked", f);
            struct stat st;
            CHECK(fstat(f, &st));
            SAY("nlink %ld\n", (long)st.st_nlink);

            /* A removed cwd. */
            CHECK(mkdir("gone", 0755));
            CHECK(chdir("gone"));
            CHECK(rmdir("../gone"));
            cwd_is("in a removed directory");
            CHECK(open("z", O_CREAT | O_WRONLY, 0644));
        }

        int main(void)
        {
            char base[4096];
            if (!getcwd(base, sizeof base)) return 1;
            SAY("-- in a host folder\n");
            scenario();
            CHECK(chdir(base));
            char shm[] = "/dev/shm/umos-held-XXXXXX";
            if (!mkdtemp(shm)) return 1;
            CHECK(chdir(shm));
            SAY("-- in tmpfs\n");
            fflush(stdout);
            scenario();
            fflush(stdout);
            char cmd[128];
            snprintf(cmd, sizeof cmd, "rm -rf %s", shm);
            CHECK(chdir("/"));
            return system(cmd) == 0 ? 0 : 1;
        }
        """;
}
