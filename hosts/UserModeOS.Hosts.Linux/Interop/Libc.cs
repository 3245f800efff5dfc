using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace UserModeOS.Hosts.Linux.Interop;

/// <summary>The host C library calls the Linux host shim uses. Flag values are Linux x86-64's, the same as the guest's.</summary>
[SupportedOSPlatform("linux")]
internal static unsafe partial class Libc
{
    private const string Library = "libc";

    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;

    [LibraryImport(Library, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags, uint mode);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Library, EntryPoint = "dup", SetLastError = true)]
    public static partial int Dup(int fd);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "pread64", SetLastError = true)]
    public static partial nint Pread(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Library, EntryPoint = "pwrite64", SetLastError = true)]
    public static partial nint Pwrite(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Library, EntryPoint = "lseek64", SetLastError = true)]
    public static partial long Lseek(int fd, long offset, int whence);

    [LibraryImport(Library, EntryPoint = "fstat64", SetLastError = true)]
    public static partial int Fstat(int fd, byte* stat);

    [LibraryImport(Library, EntryPoint = "fstatat64", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Fstatat(int dirfd, string path, byte* stat, int flags);

    [LibraryImport(Library, EntryPoint = "readlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint Readlink(string path, byte* buffer, nuint size);

    [LibraryImport(Library, EntryPoint = "faccessat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Faccessat(int dirfd, string path, int mode, int flags);

    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, void* argument);

    [LibraryImport(Library, EntryPoint = "getdents64", SetLastError = true)]
    public static partial nint Getdents64(int fd, byte* buffer, nuint size);

    [LibraryImport(Library, EntryPoint = "ftruncate64", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    [LibraryImport(Library, EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport(Library, EntryPoint = "isatty")]
    public static partial int IsATty(int fd);

    /// <summary>The errno of the last failed call.</summary>
    public static int Errno => Marshal.GetLastPInvokeError();
}
