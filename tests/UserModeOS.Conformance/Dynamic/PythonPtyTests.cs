using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.Dynamic;

/// <summary>
/// Debian's python3 using pseudo-terminals as terminal programs do: pty.openpty() with
/// os.read/os.write through the line discipline (echo, ONLCR, tty.setraw), a busybox shell
/// run by subprocess with the pts as its stdio, and pty.fork() (forkpty: setsid, TIOCSCTTY,
/// reading until EIO), native vs umos.
/// </summary>
[TestFixture]
public sealed class PythonPtyTests
{
    private const string Python = "/usr/bin/python3";

    private const string Script = """
        import os, pty, select, subprocess, termios, tty, fcntl, struct

        def read_all(fd, quiet=0.3):
            # Reads until nothing comes for a while (quiet=None: until end of file or an error).
            data = b''
            while select.select([fd], [], [], quiet)[0]:
                try:
                    chunk = os.read(fd, 1024)
                except OSError as e:
                    data += b'<%s>' % os.strerror(e.errno).encode()
                    break
                if not chunk:
                    break
                data += chunk
            return data

        m, s = pty.openpty()
        print('isatty', os.isatty(m), os.isatty(s))
        print('ttyname under /dev/pts', os.ttyname(s).startswith('/dev/pts/'))
        os.write(m, b'hello\n')
        print('line', os.read(s, 100))
        print('echo', read_all(m))
        os.write(s, b'a\nb\n')
        print('onlcr', read_all(m))
        print('attrs', termios.tcgetattr(s)[:4])
        tty.setraw(s)
        os.write(m, b'x\r\x03')
        print('raw', read_all(s), read_all(m))
        termios.tcsetattr(s, termios.TCSANOW, [termios.ICRNL | termios.IXON, termios.OPOST | termios.ONLCR, termios.B38400 | termios.CS8 | termios.CREAD, termios.ISIG | termios.ICANON | termios.ECHO | termios.ECHOE | termios.ECHOK, termios.B38400, termios.B38400, termios.tcgetattr(s)[6]])
        fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack('HHHH', 30, 100, 0, 0))
        script = 'case $(tty) in /dev/pts/*) echo on a pts;; esac; stty size; read line; echo "got $line"'
        p = subprocess.Popen(['/bin/busybox', 'sh', '-c', script], stdin=s, stdout=s, stderr=s, start_new_session=True)
        os.write(m, b'typed\n')
        p.wait()
        print('subprocess', p.returncode, read_all(m))
        os.close(s)
        print('after slave closed', read_all(m))
        os.close(m)

        pid, fd = pty.fork()
        if pid == 0:
            os.execv('/bin/busybox', ['sh', '-c', 'echo pid is session $(( $$ == $(cut -d" " -f6 /proc/$$/stat) )); stty size; tty >/dev/null && echo tty ok'])
        out = read_all(fd, None)
        _, status = os.waitpid(pid, 0)
        print('pty.fork', os.waitstatus_to_exitcode(status), out)
        """;

    [Test]
    public void OpenptySubprocessAndFork()
    {
        Assume.That(File.Exists(Python), $"{Python} is not installed");
        Assume.That(File.Exists("/bin/busybox"), "/bin/busybox is not installed");
        var r = Compare.AssertSameAsNative([Python, "-c", Script]);
        Assert.That(r.StdoutText, Does.Contain("got typed"), r.Describe());
    }
}
