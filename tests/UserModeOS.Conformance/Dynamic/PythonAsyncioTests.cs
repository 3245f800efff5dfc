using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.Dynamic;

/// <summary>
/// Debian's python3 running asyncio, whose event loop waits in epoll (selectors picks
/// EpollSelector when epoll_create1 works): a unix-socket echo server and its clients, a
/// subprocess's output read through a pipe, a reader callback and a timer, native vs umos.
/// </summary>
[TestFixture]
public sealed class PythonAsyncioTests
{
    private const string Python = "/usr/bin/python3";

    private const string Script = """
        import asyncio, os, selectors, sys

        print('selector', selectors.DefaultSelector().__class__.__name__)

        async def handle(reader, writer):
            while line := await reader.readline():
                writer.write(line.upper())
                await writer.drain()
            writer.close()
            await writer.wait_closed()

        async def client(path, words):
            reader, writer = await asyncio.open_unix_connection(path)
            for w in words:
                writer.write(w.encode() + b'\n')
                await writer.drain()
                print('echo', (await reader.readline()).decode().strip())
            writer.write_eof()
            print('eof', await reader.read())
            writer.close()
            await writer.wait_closed()

        async def main():
            loop = asyncio.get_running_loop()
            path = 'echo.sock'
            server = await asyncio.start_unix_server(handle, path)
            async with server:
                await client(path, ['alpha', 'beta'])
                await client(path, ['gamma'])
            os.unlink(path)

            code = 'import time; print("child one", flush=True); time.sleep(0.1); print("child two")'
            proc = await asyncio.create_subprocess_exec(sys.executable, '-c', code, stdout=asyncio.subprocess.PIPE)
            out, _ = await proc.communicate()
            print('child said', out.decode().split('\n'), 'exit', proc.returncode)

            r, w = os.pipe()
            got = loop.create_future()
            loop.add_reader(r, lambda: got.set_result(os.read(r, 64)))
            loop.call_later(0.05, os.write, w, b'late')
            print('reader', await asyncio.wait_for(got, 10))
            start = loop.time()
            await asyncio.sleep(0.1)
            print('slept', loop.time() - start >= 0.09)

        asyncio.run(main())
        """;

    [Test]
    public void EchoServerSubprocessAndTimers()
    {
        Assume.That(File.Exists(Python), $"{Python} is not installed");
        var r = Compare.AssertSameAsNative([Python, "-c", Script], compareStderr: true);
        Assert.That(r.StdoutText, Does.Contain("selector EpollSelector"), r.Describe());
        Assert.That(r.UmosLog, Does.Not.Contain("unknown syscall epoll"), r.Describe());
    }
}
