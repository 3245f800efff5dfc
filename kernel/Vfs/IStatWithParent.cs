namespace UserModeOS.Kernel.Vfs;

/// <summary>
/// A filesystem whose lstat of a path several components deep also tells whether everything
/// before the last component was a real directory (no symlink, no file). The walk's fast path
/// (<see cref="PathWalk"/>) asks for several names at once; when such a lookup fails, this tells
/// it that the failure is the last name's own (a missing file: ENOENT) without asking again.
/// </summary>
public interface IStatWithParent
{
    /// <summary>
    /// <see cref="IFileSystem.Stat"/>, and <paramref name="parentIsDirectory"/> true when every
    /// component but the last was found to be a real directory, so that the result is what a
    /// lookup of the last name alone in that directory gives. When it is false, an ENOENT or
    /// ENOTDIR result is the first failure met looking the components before the last up in
    /// order (a missing name, or one that is not a directory, with only real directories before
    /// it), as a walk one component at a time would meet it; any other result (ELOOP for a
    /// symlink on the way) tells nothing.
    /// </summary>
    Errno Stat(string path, Task? caller, out StatInfo stat, out bool parentIsDirectory);
}
