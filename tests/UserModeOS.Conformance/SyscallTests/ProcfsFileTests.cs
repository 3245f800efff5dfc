namespace UserModeOS.Conformance.SyscallTests;

/// <summary>/proc/self/fdinfo/N, /proc/self/auxv and /proc/self/smaps, compared by the fields that do not differ by nature.</summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class ProcfsFileTests(string compiler)
{
    [Test]
    public void FdinfoAuxvSmaps() => SyscallPrograms.AssertSameAsNative(Source, compiler);

    private const string Source = """
        #include <sys/auxv.h>
        #include <elf.h>

        static char a[1 << 20], b[1 << 20];

        static int slurp(const char *path, char *buf, int size)
        {
            int fd = open(path, O_RDONLY);
            if (fd < 0) return -1;
            int n = 0, r;
            while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0) n += r;
            buf[n] = 0;
            close(fd);
            return n;
        }

        static void fdinfo(int fd)
        {
            char path[64];
            snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
            if (slurp(path, a, sizeof a) < 0) { SAY("fdinfo %d: %s\n", fd, errname(errno)); return; }
            struct stat st;
            fstat(fd, &st);
            long long pos = -1; unsigned flags = 0; int mnt = -1; unsigned long ino = 0;
            char *p = strstr(a, "pos:\t"); if (p) sscanf(p, "pos:\t%lld", &pos);
            p = strstr(a, "flags:\t"); if (p) sscanf(p, "flags:\t%o", &flags);
            p = strstr(a, "mnt_id:\t"); if (p) sscanf(p, "mnt_id:\t%d", &mnt);
            p = strstr(a, "ino:\t"); if (p) sscanf(p, "ino:\t%lu", &ino);
            SAY("fd %d: pos %lld flags 0%o mnt_id %s ino %s, starts with pos: %d\n", fd, pos, flags,
                mnt >= 0 ? "present" : "missing", ino == st.st_ino ? "matches" : "differs", strncmp(a, "pos:\t", 5) == 0);
        }

        int main(void)
        {
            SAY("start\n");
            int f = open("file", O_CREAT | O_RDWR | O_APPEND | O_CLOEXEC, 0644);
            write(f, "0123456789", 10);
            lseek(f, 3, SEEK_SET);
            int r = open("file", O_RDONLY | O_NONBLOCK);
            int p[2];
            pipe2(p, O_CLOEXEC);
            fdinfo(f);
            fdinfo(r);
            fdinfo(p[0]);
            fdinfo(p[1]);
            fdinfo(77);

            int n = slurp("/proc/self/auxv", a, sizeof a);
            unsigned long *v = (unsigned long *)a;
            int pairs = n / 16, matched = 0, last_null = pairs > 0 && v[(pairs - 1) * 2] == AT_NULL;
            unsigned long keys[] = { AT_PHDR, AT_PHNUM, AT_PAGESZ, AT_ENTRY, AT_RANDOM, AT_EXECFN, AT_UID, AT_HWCAP };
            for (int k = 0; k < 8; k++)
                for (int i = 0; i < pairs; i++)
                    if (v[i * 2] == keys[k] && v[i * 2 + 1] == getauxval(keys[k])) { matched++; break; }
            SAY("auxv: whole pairs %d, ends with AT_NULL %d, %d of 8 match getauxval\n", n % 16 == 0, last_null, matched);

            slurp("/proc/self/maps", b, sizeof b);
            slurp("/proc/self/smaps", a, sizeof a);
            int headers_match = 1, entries = 0, sizes_ok = 1, fields_ok = 1;
            char *mline = b, *s = a;
            while (*s) {
                char *eol = strchr(s, '\n');
                if (!eol) break;
                *eol = 0;
                if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')) {
                    char *meol = strchr(mline, '\n');
                    if (!meol || strncmp(mline, s, meol - mline) != 0 || (size_t)(meol - mline) != strlen(s)) headers_match = 0;
                    if (meol) mline = meol + 1;
                    unsigned long start, end;
                    sscanf(s, "%lx-%lx", &start, &end);
                    entries++;
                    unsigned long size = 0, kps = 0, rss = ~0UL, pss = ~0UL, swap = ~0UL; int vmflags = 0;
                    for (char *q = eol + 1; *q && !((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f'));) {
                        char *qe = strchr(q, '\n');
                        sscanf(q, "Size: %lu", &size);
                        sscanf(q, "KernelPageSize: %lu", &kps);
                        sscanf(q, "Rss: %lu", &rss);
                        sscanf(q, "Pss: %lu", &pss);
                        sscanf(q, "Swap: %lu", &swap);
                        if (!strncmp(q, "VmFlags:", 8)) vmflags = 1;
                        if (!qe) break;
                        q = qe + 1;
                    }
                    if (size != (end - start) / 1024 || kps != 4) sizes_ok = 0;
                    if (rss == ~0UL || pss == ~0UL || swap == ~0UL || !vmflags) fields_ok = 0;
                }
                s = eol + 1;
            }
            SAY("smaps: entries %s, headers match maps %d, sizes %d, fields %d, first field line: %.16s\n",
                entries > 3 ? "several" : "few", headers_match && *mline == 0, sizes_ok, fields_ok, strchr(a, 0) + 1);
            return 0;
        }
        """;
}
