using UserModeOS.Conformance.SyscallTests;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// path_resolution(7) as the guest VFS walks it, compared with the host kernel: symlink
/// loops and the 40-link limit, trailing slashes, ".." after a symlinked directory,
/// O_NOFOLLOW, O_CREAT through dangling links, and which calls follow a last symlink.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class PathSemanticsTests(string compiler)
{
    [Test]
    public void WalkLikeLinux() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        #include <limits.h>

        static void clean(void)
        {
            char n[64];
            for (int i = 0; i <= 45; i++) { snprintf(n, sizeof n, "c%d", i); unlink(n); }
            unlink("loop1"); unlink("loop2"); unlink("self"); unlink("dangling"); unlink("target-made");
            unlink("a/b/x"); unlink("a/x"); unlink("l"); unlink("ld"); unlink("f"); unlink("slashlink");
            unlink("a/b/c/deep"); rmdir("a/b/c"); rmdir("a/b"); rmdir("a"); rmdir("newdir");
        }

        int main(void)
        {
            clean();
            umask(022);
            char buf[PATH_MAX];
            struct stat st;

            /* loops */
            symlink("loop2", "loop1");
            symlink("loop1", "loop2");
            symlink("self", "self");
            CHECK(open("loop1", O_RDONLY));
            CHECK(stat("self", &st));
            CHECK(lstat("self", &st));
            CHECK(open("loop1/x", O_RDONLY));
            CHECK(mkdir("loop1/x", 0755));
            CHECK(access("self", F_OK));

            /* the 40-link limit: a chain of 40 links resolves, 41 do not */
            int fd = open("c0", O_WRONLY | O_CREAT | O_TRUNC, 0644);
            write(fd, "end\n", 4);
            close(fd);
            char n[64], m[64];
            for (int i = 1; i <= 41; i++) { snprintf(n, sizeof n, "c%d", i); snprintf(m, sizeof m, "c%d", i - 1); symlink(m, n); }
            CHECK(open("c40", O_RDONLY) >= 0);
            CHECK(open("c41", O_RDONLY));

            /* trailing slashes */
            fd = open("f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
            close(fd);
            CHECK(open("f/", O_RDONLY));
            CHECK(stat("f/", &st));
            CHECK(open("f/.", O_RDONLY));
            CHECK(open("missing/", O_RDONLY));
            CHECK(open("newfile/", O_WRONLY | O_CREAT, 0644));
            CHECK(mkdir("newdir/", 0755));
            CHECK(rmdir("newdir/"));
            CHECK(unlink("f/"));

            /* .. after a symlinked directory goes to the real parent */
            mkdir("a", 0755);
            mkdir("a/b", 0755);
            mkdir("a/b/c", 0755);
            fd = open("a/x", O_WRONLY | O_CREAT, 0644); write(fd, "in a\n", 5); close(fd);
            fd = open("a/b/x", O_WRONLY | O_CREAT, 0644); write(fd, "in b\n", 5); close(fd);
            symlink("a/b/c", "l");
            memset(buf, 0, sizeof buf);
            fd = open("l/../x", O_RDONLY);
            CHECK(read(fd, buf, sizeof buf));
            SAY("l/../x holds %s", buf);
            close(fd);
            CHECK(stat("l/../../x", &st));
            SAY("l/../../x size %ld\n", (long)st.st_size);
            char start[PATH_MAX], cwd[PATH_MAX];
            getcwd(start, sizeof start);
            CHECK(chdir("l"));
            getcwd(cwd, sizeof cwd);
            SAY("cwd after chdir(l) ends in a/b/c: %d\n", strcmp(cwd + strlen(cwd) - 6, "/a/b/c") == 0);
            CHECK(chdir(".."));
            getcwd(cwd, sizeof cwd);
            SAY("then .. ends in a/b: %d\n", strcmp(cwd + strlen(cwd) - 4, "/a/b") == 0);
            chdir(start);

            /* O_NOFOLLOW, O_PATH and links to directories with a trailing slash */
            symlink("a", "ld");
            CHECK(open("ld", O_RDONLY | O_NOFOLLOW));
            CHECK(open("ld", O_RDONLY | O_NOFOLLOW | O_PATH) >= 0);
            CHECK(open("ld/", O_RDONLY | O_NOFOLLOW) >= 0);
            CHECK(open("ld/x", O_RDONLY | O_NOFOLLOW) >= 0);
            CHECK(lstat("ld", &st)); SAY("lstat ld is link: %d\n", S_ISLNK(st.st_mode));
            CHECK(lstat("ld/", &st)); SAY("lstat ld/ is dir: %d\n", S_ISDIR(st.st_mode));
            CHECK(rmdir("ld/"));
            CHECK(unlink("ld/"));
            CHECK(rename("ld/", "ld2"));
            CHECK(readlink("ld/", buf, sizeof buf));
            CHECK(readlink("ld", buf, sizeof buf));
            CHECK(mkdir("ld", 0755));
            CHECK(mkdir("ld/", 0755));

            /* dangling links: O_CREAT follows, O_EXCL does not, mkdir never */
            symlink("target-made", "dangling");
            CHECK(stat("dangling", &st));
            CHECK(open("dangling", O_WRONLY | O_CREAT | O_EXCL, 0644));
            CHECK(mkdir("dangling", 0755));
            fd = open("dangling", O_WRONLY | O_CREAT, 0640);
            CHECK(fd >= 0);
            close(fd);
            CHECK(stat("target-made", &st));
            SAY("made mode %o\n", st.st_mode & 07777);
            CHECK(symlink("x", "dangling"));
            CHECK(link("dangling", "a/b/c/deep"));
            CHECK(lstat("a/b/c/deep", &st)); SAY("hard link to a symlink is a link: %d\n", S_ISLNK(st.st_mode));

            /* empty and odd paths */
            CHECK(open("", O_RDONLY));
            CHECK(stat("/..", &st)); SAY("/.. is / : %d\n", st.st_ino == (stat("/", &st), st.st_ino));
            CHECK(open("/../../..", O_RDONLY | O_DIRECTORY) >= 0);
            CHECK(open("a//b///x", O_RDONLY) >= 0);
            CHECK(open("./a/./b/../b/x", O_RDONLY) >= 0);
            CHECK(chdir("f"));
            CHECK(open("a/x/y", O_RDONLY));
            CHECK(open("a/x/..", O_RDONLY));

            clean();
            return 0;
        }
        """;
}
