using UserModeOS.Kernel;

namespace UserModeOS.Hosts.Linux;

/// <summary>Kernel warnings and traces as lines on a host writer (the CLI's stderr).</summary>
public sealed class HostLog : IKernelLog
{
    private readonly TextWriter _writer;
    private readonly Lock _lock = new();

    public HostLog(TextWriter writer)
    {
        _writer = writer;
    }

    public void Warn(string message) => WriteLine("umos: " + message);

    public void Trace(string message) => WriteLine(message);

    private void WriteLine(string line)
    {
        lock (_lock)
        {
            _writer.WriteLine(line);
            _writer.Flush();
        }
    }
}
