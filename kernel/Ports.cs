namespace UserModeOS.Kernel;

/// <summary>Where the kernel reports what an operator should see (a host port).</summary>
public interface IKernelLog
{
    /// <summary>Something went wrong or is unsupported (an unknown syscall, an unimplemented instruction).</summary>
    void Warn(string message);

    /// <summary>A syscall trace line (strace output).</summary>
    void Trace(string message);
}

/// <summary>The syscall layer, as the kernel sees it: handles the syscall a task just made.</summary>
public interface ISyscallDispatcher
{
    /// <summary>Runs the syscall in RAX with the task's argument registers and leaves the result in RAX.</summary>
    void Dispatch(Task task);
}
