using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// busybox's file applets in a folder root (ls, cp -a, mv, rm -r, find, tar, ln, stat,
/// touch -d, chmod, du, df), compared with the same script run natively by the host's
/// busybox in a folder on the same host filesystem.
/// </summary>
[TestFixture]
public sealed class BusyboxFolderTests
{
    internal const string Script = """
        mkdir -p d/sub/deeper && echo hello > d/f && echo world > d/sub/g && ln -s f d/l && ln d/f d/hard && ln -s ../f d/sub/up
        touch -d '2021-03-04 05:06:07' d/f d/sub/g d/sub/deeper d/sub
        chmod 640 d/f; chmod 751 d/sub
        stat -c '%n %s %a %h %F %Y' d/f d/hard d/sub d/sub/g d/l
        ls -ln d/f d/sub/g | while read perm links user group size rest; do echo "$perm $links $user $group $size"; done
        ls -1a d; ls -1R d | sort
        readlink d/l; test d/sub/up -ef d/f && echo same file; cat d/l d/sub/up
        find d | sort; find d -type l | sort; find d -type f -name '*' | sort; find d -mindepth 2 | sort
        cp -a d e; stat -c '%n %s %a %h %F %Y' e/f e/sub e/sub/g e/sub/deeper; readlink e/l; readlink e/sub/up
        cp -r d/sub e2; ls -1 e2 | sort
        mv e/sub e/moved; mv e/f e/moved/f2; ls -1R e | sort
        tar cf t.tar d; tar tf t.tar | sort; mkdir x; tar xf t.tar -C x; find x | sort; cat x/d/l
        du -s d e | while read n p; do echo "$p $n"; done
        rm -r e e2 x; rm t.tar; ls -1
        touch -d '2001-02-03 04:05:06' new; stat -c '%n %s %Y' new; chmod 4755 new; stat -c '%a %A' new
        ln -s nowhere dangling; ls -1 dangling; test -e dangling; echo exists=$?; test -L dangling; echo link=$?
        rm -r d new dangling; ls -1a
        """;

    [Test]
    public void FileAppletsLikeNative()
    {
        Assume.That(File.Exists(FolderRoot.Busybox), "busybox-static is not installed");
        using var root = new FolderRoot();
        using var native = new TempDir("umos-vfs-native");
        var nativeRun = NativeBusybox(native.Path, Script);
        var umos = root.Run(["/bin/sh", "-c", Script], workdir: "/work");
        Assert.That(umos.StdoutText, Is.EqualTo(nativeRun.StdoutText), $"native stderr:\n{nativeRun.StderrText}\numos stderr:\n{umos.StderrText}\n{umos.UmosLog}");
        Assert.That(umos.StderrText, Is.EqualTo(nativeRun.StderrText));
        Assert.That(umos.ExitCode, Is.EqualTo(nativeRun.ExitCode));
        root.AssertWallHeld(umos);
    }

    /// <summary>The host's busybox with a bin folder of applet links first in PATH, as the root has.</summary>
    internal static RunResult NativeBusybox(string workdir, string script)
    {
        var bin = Path.Combine(workdir, "..", Path.GetFileName(workdir) + "-bin");
        Directory.CreateDirectory(bin);
        try
        {
            foreach (var applet in new[] { "sh", "ls", "cat", "cp", "mv", "rm", "mkdir", "ln", "find", "tar", "stat", "touch", "chmod", "du", "readlink", "test", "sort", "echo" })
            {
                File.CreateSymbolicLink(Path.Combine(bin, applet), FolderRoot.Busybox);
            }

            return Native.Run([Path.Combine(bin, "sh"), "-c", script], null, workdir, ["PATH=" + bin, "LC_ALL=C", "HOME=/"]);
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }

    [Test]
    public void DfShowsTheMounts()
    {
        Assume.That(File.Exists(FolderRoot.Busybox), "busybox-static is not installed");
        using var root = new FolderRoot();
        var run = root.Sh("df / /proc /dev /dev/shm /tmp; df -T / 2>/dev/null | tail -1; cat /proc/mounts");
        Assert.That(run.ExitCode, Is.Zero, run.StderrText);
        Assert.That(run.StdoutText, Does.Contain("/dev/shm"));
        Assert.That(run.StdoutText, Does.Contain("tmpfs /tmp tmpfs"), "a root without /tmp gets a tmpfs there");
        Assert.That(run.StdoutText, Does.Contain("proc /proc proc"));
    }
}
