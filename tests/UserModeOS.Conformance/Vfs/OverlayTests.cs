using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using UserModeOS.Conformance.Harness;
using UserModeOS.Hosting;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// `--root DIR --overlay UPPER`: the folder root becomes copy-on-write. Guests create,
/// change, delete and rename files and folders through busybox; afterwards DIR is
/// byte-for-byte unchanged (every file's content and metadata), UPPER holds the changes,
/// deletions stay hidden and a folder deleted then made again shows none of the old entries.
/// </summary>
[TestFixture]
public sealed class OverlayTests
{
    /// <summary>A folder root with some lower content besides busybox, and an empty upper next to it.</summary>
    private static (FolderRoot Root, TempDir Upper) Make()
    {
        var root = new FolderRoot();
        Directory.CreateDirectory(root["etc/conf.d/deep"]);
        File.WriteAllText(root["etc/motd"], "lower motd\n");
        File.WriteAllText(root["etc/conf.d/a.conf"], "a=1\n");
        File.WriteAllText(root["etc/conf.d/b.conf"], "b=2\n");
        File.WriteAllText(root["etc/conf.d/deep/c.conf"], "c=3\n");
        File.WriteAllText(root["work/keep.txt"], "keep\n");
        File.WriteAllText(root["work/gone.txt"], "gone\n");
        File.WriteAllText(root["work/moveme.txt"], "moved content\n");
        File.SetUnixFileMode(root["work/moveme.txt"], (UnixFileMode)0x1E4);
        File.CreateSymbolicLink(root["work/link"], "keep.txt");
        Directory.CreateDirectory(root["olddir/inner"]);
        File.WriteAllText(root["olddir/inner/x"], "x\n");
        File.SetLastWriteTimeUtc(root["etc/motd"], new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        return (root, new TempDir("umos-overlay-upper"));
    }

    /// <summary>Every entry below <paramref name="folder"/>: path, type, mode, owner, size, mtime, link target and content hash.</summary>
    internal static string Snapshot(string folder)
    {
        var listing = Native.Run(["/usr/bin/find", folder, "-printf", "%P|%y|%m|%U|%G|%s|%T@|%n|%l\n"], env: ["PATH=/usr/bin:/bin", "LC_ALL=C"]);
        Assert.That(listing.ExitCode, Is.Zero, listing.StderrText);
        var lines = listing.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(line);
            var relative = line[..line.IndexOf('|')];
            var full = Path.Combine(folder, relative);
            if (line.Split('|')[1] == "f")
            {
                text.Append('|').Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(full))));
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    private static RunResult RunOverlay(FolderRoot root, TempDir upper, string script) =>
        root.Run(["/bin/sh", "-c", script], workdir: "/work", options: new BoxOptions { RootPath = root.Root, OverlayUpper = upper.Path, Log = TestContext.Out });

    private const string ChangeScript = """
        set -e
        echo new > /work/new.txt
        echo more >> /etc/motd
        echo changed > /work/keep.txt
        rm /work/gone.txt
        mv /work/moveme.txt /work/moved.txt
        mkdir -p /newdir/sub && echo inside > /newdir/sub/file
        mv /newdir /renamed
        rm -r /etc/conf.d
        mkdir /etc/conf.d && echo fresh > /etc/conf.d/only.conf
        mv /olddir /olddir2
        chmod 700 /work
        touch -d '2001-02-03 04:05:06' /bin/busybox
        ln /work/moved.txt /work/hard.txt
        ln -sf moved.txt /work/link
        echo ---
        cat /etc/motd /work/keep.txt /work/new.txt /work/moved.txt /renamed/sub/file /etc/conf.d/only.conf /olddir2/inner/x
        ls -a /work | sort
        ls -a /etc/conf.d | sort
        ls / | sort
        test -e /work/gone.txt || echo gone is gone
        test -e /work/moveme.txt || echo moveme is gone
        test -e /olddir || echo olddir is gone
        stat -c '%n %a %h' /work /work/moved.txt /work/hard.txt
        stat -c '%n %Y' /bin/busybox
        readlink /work/link
        find /etc | sort
        """;

    [Test]
    public void ChangesLandInUpperAndLowerIsUntouched()
    {
        Assume.That(File.Exists(FolderRoot.Busybox), "busybox-static is not installed");
        var (root, upper) = Make();
        using (root)
        using (upper)
        {
            var before = Snapshot(root.Root);
            var run = RunOverlay(root, upper, ChangeScript);
            Assert.That(run.ExitCode, Is.Zero, run.StderrText + run.UmosLog);
            var output = run.StdoutText[(run.StdoutText.IndexOf("---\n", StringComparison.Ordinal) + 4)..];
            Assert.That(output, Is.EqualTo("""
                lower motd
                more
                changed
                new
                moved content
                inside
                fresh
                x
                .
                ..
                hard.txt
                keep.txt
                link
                moved.txt
                new.txt
                .
                ..
                only.conf
                bin
                etc
                olddir2
                renamed
                work
                gone is gone
                moveme is gone
                olddir is gone
                /work 700 2
                /work/moved.txt 744 2
                /work/hard.txt 744 2
                /bin/busybox 981173106
                moved.txt
                /etc
                /etc/conf.d
                /etc/conf.d/only.conf
                /etc/motd

                """), run.StderrText);
            Assert.That(run.StderrText, Is.Empty);

            Assert.That(Snapshot(root.Root), Is.EqualTo(before), "the lower folder was written");
            root.AssertWallHeld(run);

            // The upper holds the changes.
            Assert.That(File.ReadAllText(Path.Combine(upper.Path, "etc/motd")), Is.EqualTo("lower motd\nmore\n"));
            Assert.That(File.ReadAllText(Path.Combine(upper.Path, "work/new.txt")), Is.EqualTo("new\n"));
            Assert.That(File.ReadAllText(Path.Combine(upper.Path, "work/moved.txt")), Is.EqualTo("moved content\n"));
            Assert.That(File.ReadAllText(Path.Combine(upper.Path, "renamed/sub/file")), Is.EqualTo("inside\n"));
            Assert.That(File.ReadAllText(Path.Combine(upper.Path, "etc/conf.d/only.conf")), Is.EqualTo("fresh\n"));
            Assert.That(File.GetLastWriteTimeUtc(Path.Combine(upper.Path, "bin/busybox")), Is.EqualTo(new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc)));
            Assert.That(new FileInfo(Path.Combine(upper.Path, "bin/busybox")).Length, Is.EqualTo(new FileInfo(root["bin/busybox"]).Length));
            Assert.That(IsWhiteout(upper.Path, "work/gone.txt"), Is.True, "a deleted lower file leaves a whiteout");
            Assert.That(IsWhiteout(upper.Path, "work/moveme.txt"), Is.True, "a renamed lower file leaves a whiteout");
            Assert.That(IsWhiteout(upper.Path, "olddir"), Is.True, "a moved lower folder leaves a whiteout");
            Assert.That(File.Exists(Path.Combine(upper.Path, "etc/conf.d/.wh..wh..opq")), Is.True, "a folder made again is opaque");
            Assert.That(File.Exists(Path.Combine(upper.Path, "etc/conf.d/a.conf")), Is.False);

            // A second boot over the same upper sees the same world.
            var again = RunOverlay(root, upper, "ls -a /etc/conf.d | sort; test -e /work/gone.txt || echo gone; cat /etc/motd; ls /olddir2/inner");
            Assert.That(again.StdoutText, Is.EqualTo(".\n..\nonly.conf\ngone\nlower motd\nmore\nx\n"), again.StderrText);
            Assert.That(Snapshot(root.Root), Is.EqualTo(before));
        }
    }

    /// <summary>A character device 0/0 (overlayfs) or, where the host cannot mknod, a `.wh.NAME` marker.</summary>
    private static bool IsWhiteout(string upper, string relative)
    {
        var full = Path.Combine(upper, relative);
        var marker = Path.Combine(Path.GetDirectoryName(full)!, ".wh." + Path.GetFileName(full));
        if (File.Exists(marker))
        {
            return true;
        }

        var stat = Native.Run(["/usr/bin/stat", "-c", "%F %t %T", full], env: ["PATH=/usr/bin:/bin", "LC_ALL=C"]);
        return stat.ExitCode == 0 && stat.StdoutText == "character special file 0 0\n";
    }

    /// <summary>busybox's file applets behave in an overlay root as natively, and write nothing below.</summary>
    [Test]
    public void FileAppletsLikeNative()
    {
        Assume.That(File.Exists(FolderRoot.Busybox), "busybox-static is not installed");
        var (root, upper) = Make();
        using (root)
        using (upper)
        {
            // The native side works in an empty folder: so does the guest.
            File.Delete(root["work/keep.txt"]);
            File.Delete(root["work/gone.txt"]);
            File.Delete(root["work/moveme.txt"]);
            File.Delete(root["work/link"]);
            var before = Snapshot(root.Root);
            using var native = new TempDir("umos-overlay-native");
            var nativeRun = BusyboxFolderTests.NativeBusybox(native.Path, BusyboxFolderTests.Script);
            var umos = RunOverlay(root, upper, BusyboxFolderTests.Script);
            Assert.That(umos.StdoutText, Is.EqualTo(nativeRun.StdoutText), $"native stderr:\n{nativeRun.StderrText}\numos stderr:\n{umos.StderrText}");
            Assert.That(umos.StderrText, Is.EqualTo(nativeRun.StderrText));
            Assert.That(umos.ExitCode, Is.EqualTo(nativeRun.ExitCode));
            Assert.That(Snapshot(root.Root), Is.EqualTo(before), "the lower folder was written");
        }
    }

    /// <summary>
    /// Issue 4's "done when": `./umos run --root DIR --overlay UPPER -- /bin/sh` with a script on
    /// stdin behaves as `chroot COPY /bin/sh` does natively (on a copy of DIR, which chroot
    /// writes), and writes nothing to DIR.
    /// </summary>
    [Test]
    public void ShellOnStdinBehavesAsChroot()
    {
        Assume.That(File.Exists(FolderRoot.Busybox), "busybox-static is not installed");
        Assume.That(Environment.UserName == "root" && File.Exists("/usr/sbin/chroot"), "native chroot needs root");
        var (root, upper) = Make();
        using (root)
        using (upper)
        using (var copy = new TempDir("umos-overlay-chroot"))
        {
            const string Script = """
                cd /work
                echo hello > hello.txt; cat hello.txt
                echo appended >> /etc/motd; cat /etc/motd
                rm gone.txt; ls
                mv moveme.txt moved.txt; ls -l moved.txt | cut -c1-10
                mkdir -p a/b/c; echo deep > a/b/c/f; mv a z; find z | sort
                rm -r /etc/conf.d; mkdir /etc/conf.d; ls -a /etc/conf.d
                rm -r /olddir; ls /
                ln -s hello.txt sym; readlink sym; cat sym
                chmod 600 keep.txt; stat -c '%a %s' keep.txt
                cat nonexistent 2>&1; echo status=$?
                pwd; cd ..; pwd; cd ../..; pwd
                exit 3
                """;
            var native = Native.Run(["/bin/cp", "-a", root.Root + "/.", copy.Path], env: ["PATH=/usr/bin:/bin"]);
            Assert.That(native.ExitCode, Is.Zero, native.StderrText);
            var before = Snapshot(root.Root);
            var chroot = Native.Run(["/usr/sbin/chroot", copy.Path, "/bin/sh"], Encoding.UTF8.GetBytes(Script), env: ["PATH=/bin", "LC_ALL=C", "HOME=/"]);

            Cli.Run("--version");
            var info = new ProcessStartInfo("/bin/bash")
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Cli.WorkingDirectory,
            };
            foreach (var a in new[] { Path.Combine(Repo.Root, "umos"), "run", "--root", root.Root, "--overlay", upper.Path, "--env", "PATH=/bin", "--env", "HOME=/", "--", "/bin/sh" })
            {
                info.ArgumentList.Add(a);
            }

            info.Environment["LC_ALL"] = "C";
            foreach (var name in info.Environment.Keys.Where(n => n.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || n.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                info.Environment.Remove(name);
            }

            var umos = ProcessRunner.Run(info, Encoding.UTF8.GetBytes(Script), TimeSpan.FromSeconds(300), "./umos run --root --overlay /bin/sh");
            Assert.That(umos.StdoutText, Is.EqualTo(chroot.StdoutText), $"chroot stderr:\n{chroot.StderrText}\numos stderr:\n{umos.StderrText}");
            Assert.That(umos.StderrText, Is.EqualTo(chroot.StderrText));
            Assert.That(umos.ExitCode, Is.EqualTo(3));
            Assert.That(chroot.ExitCode, Is.EqualTo(3));
            Assert.That(Snapshot(root.Root), Is.EqualTo(before), "the lower folder was written");
            Assert.That(File.ReadAllText(Path.Combine(upper.Path, "work/hello.txt")), Is.EqualTo("hello\n"));
        }
    }
}
