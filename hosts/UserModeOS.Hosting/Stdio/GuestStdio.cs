using System.IO.Pipelines;
using UserModeOS.Hosts.Linux;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Hosting;

/// <summary>
/// Where one of a guest process's standard streams goes: the host's own fd, a .NET
/// stream, a pipe, or nowhere.
/// </summary>
public abstract class GuestStdio
{
    /// <summary>The host process's own stdin/stdout/stderr (a terminal stays a terminal).</summary>
    public static GuestStdio Inherit { get; } = new InheritStdio();

    /// <summary>Reads as end of file; writes are discarded.</summary>
    public static GuestStdio Null { get; } = new NullStdio();

    /// <summary>A .NET stream: read for stdin, written for stdout and stderr.</summary>
    public static GuestStdio FromStream(Stream stream) => new StreamStdio(stream);

    /// <summary>The guest reads what the app writes into <paramref name="reader"/>'s pipe.</summary>
    public static GuestStdio FromPipe(PipeReader reader) => new PipeReaderStdio(reader);

    /// <summary>The guest's output goes into the pipe the app reads.</summary>
    public static GuestStdio FromPipe(PipeWriter writer) => new PipeWriterStdio(writer);

    internal abstract OpenFile Open(int fd);

    private sealed class InheritStdio : GuestStdio
    {
        internal override OpenFile Open(int fd)
        {
            if (!OperatingSystem.IsLinux())
            {
                throw new PlatformNotSupportedException("inheriting host stdio needs a Linux host");
            }

            return HostFile.ForHostStdio(fd, fd switch
            {
                0 => "/dev/stdin",
                1 => "/dev/stdout",
                _ => "/dev/stderr",
            });
        }
    }

    private sealed class NullStdio : GuestStdio
    {
        internal override OpenFile Open(int fd) => new StreamFile(Stream.Null, "/dev/null", OpenFlags.ReadWrite, ownsStream: false);
    }

    private sealed class StreamStdio(Stream stream) : GuestStdio
    {
        internal override OpenFile Open(int fd) =>
            new StreamFile(stream, $"pipe:[{fd}]", fd == 0 ? OpenFlags.ReadOnly : OpenFlags.WriteOnly, ownsStream: false);
    }

    private sealed class PipeReaderStdio(PipeReader reader) : GuestStdio
    {
        internal override OpenFile Open(int fd) => new StreamFile(reader.AsStream(), $"pipe:[{fd}]", OpenFlags.ReadOnly, ownsStream: true);
    }

    private sealed class PipeWriterStdio(PipeWriter writer) : GuestStdio
    {
        internal override OpenFile Open(int fd) => new StreamFile(writer.AsStream(), $"pipe:[{fd}]", OpenFlags.WriteOnly, ownsStream: true);
    }
}
