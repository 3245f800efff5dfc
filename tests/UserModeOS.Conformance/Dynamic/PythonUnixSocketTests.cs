using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.Dynamic;

/// <summary>
/// Debian's python3 using AF_UNIX sockets the way real programs do: socket.socketpair(), a
/// socketserver.UnixStreamServer serving from a thread, fds passed with send_fds/recv_fds,
/// and multiprocessing's Pipe and Queue across fork, native vs umos (each in its own folder).
/// </summary>
[TestFixture]
public sealed class PythonUnixSocketTests
{
    private const string Python = "/usr/bin/python3";

    private const string Script = """
        import os, socket, socketserver, threading, multiprocessing

        a, b = socket.socketpair()
        a.sendall(b'ping')
        print('socketpair', b.recv(16), a.family == socket.AF_UNIX, a.type == socket.SOCK_STREAM)
        a.close()
        print('eof', b.recv(16))
        b.close()

        d1, d2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        d1.send(b'one'); d1.send(b'two')
        print('dgram', d2.recv(2), d2.recv(16))

        class Upper(socketserver.StreamRequestHandler):
            def handle(self):
                for line in self.rfile:
                    self.wfile.write(line.upper())

        path = 'py.sock'
        with socketserver.UnixStreamServer(path, Upper) as server:
            t = threading.Thread(target=server.serve_forever, daemon=True)
            t.start()
            for word in ('alpha', 'beta'):
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                    c.connect(path)
                    c.sendall(word.encode() + b'\nsecond\n')
                    c.shutdown(socket.SHUT_WR)
                    data = b''
                    while chunk := c.recv(64):
                        data += chunk
                    print('server said', data)
            server.shutdown()
            t.join()
        os.unlink(path)

        r, w = socket.socketpair()
        fds = os.pipe()
        socket.send_fds(w, [b'x'], [fds[1]])
        msg, got, flags, addr = socket.recv_fds(r, 16, 4)
        os.write(got[0], b'via passed fd')
        print('send_fds', msg, len(got), os.read(fds[0], 64))

        def child(conn, q):
            conn.send(('child', sum(range(100))))
            q.put([1, 2, 3])
            conn.close()

        ctx = multiprocessing.get_context('fork')
        parent_end, child_end = ctx.Pipe()
        q = ctx.Queue()
        p = ctx.Process(target=child, args=(child_end, q))
        p.start()
        print('pipe', parent_end.recv())
        print('queue', q.get(timeout=30))
        p.join()
        print('exit', p.exitcode)
        """;

    [Test]
    public void SocketpairServerFdsAndMultiprocessing()
    {
        Assume.That(File.Exists(Python), $"{Python} is not installed");
        var r = Compare.AssertSameAsNative([Python, "-c", Script]);
        Assert.That(r.StdoutText, Does.Contain("server said b'BETA\\nSECOND\\n'"), r.Describe());
    }
}
