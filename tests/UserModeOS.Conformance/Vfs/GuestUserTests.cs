using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.Vfs;

/// <summary>
/// `umos run --user UID[:GID]` against the host running the same busybox shell under
/// setpriv(1) as that user: the ids it sees, and what the host's own files let it do.
/// </summary>
[TestFixture]
public sealed class GuestUserTests
{
    private const string Script = """
        id -u; id -g; id -G
        touch /etc/umos-user-test; echo "touch /etc: $?"
        cat /etc/shadow > /dev/null; echo "read /etc/shadow: $?"
        ls /root > /dev/null; echo "list /root: $?"
        echo hi > /etc/umos-user-test; echo "write /etc: $?"
        cat /etc/hostname > /dev/null; echo "read /etc/hostname: $?"
        """;

    [Test]
    public void RunsAsTheGivenUserLikeSetpriv()
    {
        Assume.That(Environment.UserName == "root", "setpriv to another user natively needs root");
        Assume.That(File.Exists("/usr/bin/setpriv") && File.Exists(FolderRoot.Busybox), "setpriv or busybox-static missing");
        Assume.That(File.Exists("/etc/shadow") && Directory.Exists("/root"), "no /etc/shadow or /root to be refused");

        var native = Native.Run(["/usr/bin/setpriv", "--reuid", "4242", "--regid", "4343", "--clear-groups", FolderRoot.Busybox, "sh", "-c", Script]);
        var guest = Cli.Run("run", "--user", "4242:4343", "--", FolderRoot.Busybox, "sh", "-c", Script);

        Assert.That(native.ExitCode, Is.EqualTo(0), native.Describe());
        Assert.That(guest.StdoutText, Is.EqualTo(native.StdoutText), guest.Describe());
        Assert.That(guest.StderrText, Is.EqualTo(native.StderrText), guest.Describe());
        Assert.That(File.Exists("/etc/umos-user-test"), Is.False);
    }

    [Test]
    public void MalformedUserIsRefused()
    {
        var r = Cli.Run("run", "--user", "alice", "--", "/bin/true");
        Assert.That(r.ExitCode, Is.EqualTo(125), r.Describe());
        Assert.That(r.StderrText, Does.Contain("--user alice"));
    }
}
