using UserModeOS.Conformance.SyscallTests;
using UserModeOS.Hosting;

namespace UserModeOS.Conformance.Vfs;

/// <summary>tmpfs: Linux file semantics in memory (compared with the host's /dev/shm, itself a tmpfs), and the size limit.</summary>
[TestFixture]
public sealed class TmpfsTests
{
    private const string Source = """
        #include <dirent.h>

        struct linux_dirent64 { unsigned long long d_ino; long long d_off; unsigned short d_reclen; unsigned char d_type; char d_name[]; };

        int main(void)
        {
            const char *d = "/dev/shm/umos-tmpfs-test";
            char p[256], q[256], buf[256];
            struct stat st;
            snprintf(p, sizeof p, "rm -rf %s", d);
            chdir("/dev/shm");
            umask(022);
            rmdir("umos-tmpfs-test/sub/inner"); rmdir("umos-tmpfs-test/sub"); rmdir("umos-tmpfs-test/sub2");
            unlink("umos-tmpfs-test/a"); unlink("umos-tmpfs-test/b"); unlink("umos-tmpfs-test/c"); unlink("umos-tmpfs-test/l");
            rmdir("umos-tmpfs-test");
            CHECK(mkdir("umos-tmpfs-test", 0755));
            CHECK(chdir("umos-tmpfs-test"));
            CHECK(stat(".", &st)); SAY("dir size %ld nlink %ld mode %o\n", (long)st.st_size, (long)st.st_nlink, st.st_mode);
            int fd = open("a", O_RDWR | O_CREAT | O_EXCL, 0666);
            CHECK(fd >= 0);
            CHECK(write(fd, "hello world", 11));
            CHECK(lseek(fd, 100000, SEEK_SET));
            CHECK(write(fd, "!", 1));
            CHECK(fstat(fd, &st)); SAY("size %ld blocks>0 %d mode %o nlink %ld blksize %ld\n", (long)st.st_size, st.st_blocks > 0, st.st_mode, (long)st.st_nlink, (long)st.st_blksize);
            CHECK(pread(fd, buf, 5, 50000)); SAY("hole reads zero: %d\n", buf[0] == 0 && buf[4] == 0);
            CHECK(ftruncate(fd, 5));
            CHECK(lseek(fd, 0, SEEK_END));
            CHECK(lseek(fd, 0, SEEK_DATA));
            CHECK(lseek(fd, 0, SEEK_HOLE));
            CHECK(lseek(fd, 10, SEEK_DATA));
            CHECK(pread(fd, buf, sizeof buf, 0));
            int ap = open("a", O_WRONLY | O_APPEND);
            CHECK(write(ap, "+tail", 5));
            CHECK(pwrite(ap, "X", 1, 0));
            close(ap);
            memset(buf, 0, sizeof buf);
            CHECK(pread(fd, buf, sizeof buf, 0)); SAY("content %s\n", buf);
            CHECK(link("a", "b"));
            CHECK(fstat(fd, &st)); SAY("nlink after link %ld\n", (long)st.st_nlink);
            CHECK(link("a", "b"));
            CHECK(mkdir("sub", 0700));
            CHECK(mkdir("sub/inner", 0777));
            CHECK(link("sub", "x"));
            CHECK(stat(".", &st)); SAY("dir nlink %ld size %ld\n", (long)st.st_nlink, (long)st.st_size);
            CHECK(symlink("a", "l"));
            CHECK(lstat("l", &st)); SAY("link size %ld mode %o\n", (long)st.st_size, st.st_mode);
            CHECK(rename("a", "c"));
            CHECK(rename("sub", "sub/inner/x"));
            CHECK(rename("c", "sub"));
            CHECK(rename("sub", "c"));
            CHECK(syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "b", 1));
            CHECK(syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "l", 2));
            CHECK(readlink("c", buf, sizeof buf));
            CHECK(lstat("l", &st)); SAY("l is now regular: %d\n", S_ISREG(st.st_mode));
            CHECK(syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "missing", 2));
            CHECK(mkdir("sub2", 0755));
            CHECK(rename("sub2", "sub"));
            CHECK(rmdir("sub"));
            CHECK(rmdir("sub/inner"));
            CHECK(unlink("sub"));
            CHECK(rmdir("b"));
            CHECK(chmod("b", 04755)); CHECK(stat("b", &st)); SAY("mode %o\n", st.st_mode);
            CHECK(chown("b", 12, 34)); CHECK(stat("b", &st)); SAY("owner %d:%d mode %o\n", st.st_uid, st.st_gid, st.st_mode);
            struct timespec ts[2] = { { 1000000000, 123456789 }, { 1500000000, 987654321 } };
            CHECK(utimensat(AT_FDCWD, "b", ts, 0)); CHECK(stat("b", &st));
            SAY("times %ld.%09ld %ld.%09ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
            /* getdents64 offsets stay valid while entries come and go */
            int dfd = open(".", O_RDONLY | O_DIRECTORY);
            char dents[4096];
            long n = syscall(SYS_getdents64, dfd, dents, 64);
            SAY("first chunk %ld\n", n > 0);
            long where = lseek(dfd, 0, SEEK_CUR);
            CHECK(unlink("l"));
            lseek(dfd, where, SEEK_SET);
            int names = 0;
            while ((n = syscall(SYS_getdents64, dfd, dents, sizeof dents)) > 0)
                for (long off = 0; off < n; names++) off += ((struct linux_dirent64 *)(dents + off))->d_reclen;
            SAY("later entries %d\n", names <= 4);
            close(dfd);
            CHECK(unlink("b"));
            CHECK(fstat(fd, &st)); SAY("open after unlink nlink %ld\n", (long)st.st_nlink);
            close(fd);
            CHECK(rmdir("sub2"));
            CHECK(unlink("c"));
            chdir("..");
            CHECK(rmdir("umos-tmpfs-test"));
            return 0;
        }
        """;

    [TestCase("gcc")]
    [TestCase("musl-gcc")]
    public void SameAsHostTmpfs(string compiler)
    {
        Assume.That(new DriveInfo("/dev/shm").DriveFormat, Is.EqualTo("tmpfs"), "the host's /dev/shm is no tmpfs");
        SyscallPrograms.AssertSameAsNative(Source, compiler);
    }

    [Test]
    public void SizeLimitGivesEnospc()
    {
        Assume.That(File.Exists(FolderRoot.Busybox), "busybox-static is not installed");
        using var root = new FolderRoot();
        var run = root.Run(
            ["/bin/sh", "-c", "dd if=/dev/zero of=/small/a bs=4096 count=4; echo rc=$?; dd if=/dev/zero of=/small/b bs=4096 count=1; echo rc=$?; rm /small/a; dd if=/dev/zero of=/small/b bs=4096 count=4 2>/dev/null; echo rc=$?; df /small | tail -1"],
            options: new BoxOptions { RootPath = root.Root, TmpfsMounts = ["/small:size=16k"] });
        Assert.That(run.StdoutText, Does.StartWith("rc=0\nrc=1\nrc=0\n"), run.StdoutText + run.StderrText);
        Assert.That(run.StderrText, Does.Contain("No space left on device"));
        Assert.That(run.StdoutText, Does.Contain("/small"));
    }
}
