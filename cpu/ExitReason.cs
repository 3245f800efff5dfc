namespace UserModeOS.Cpu;

/// <summary>Why <see cref="CpuState.Run"/> returned to the kernel.</summary>
public enum ExitReason
{
    None,
    /// <summary>The guest executed <c>syscall</c>; RIP already points past it.</summary>
    Syscall,
    /// <summary>A memory access faulted; see <see cref="CpuState.FaultAddress"/>. RIP is the faulting instruction.</summary>
    PageFault,
    /// <summary>An undefined or unimplemented instruction (#UD). RIP is the instruction.</summary>
    InvalidOpcode,
    /// <summary>Integer division by zero or quotient overflow (#DE). RIP is the instruction.</summary>
    DivideError,
    /// <summary>
    /// A pending unmasked x87 exception reached a waiting x87 or MMX instruction (#MF).
    /// RIP is that instruction; <see cref="CpuState.X87PendingExceptions"/> says which.
    /// </summary>
    FloatingPointError,
    /// <summary><c>int3</c> (#BP). RIP points past it, as on hardware.</summary>
    Breakpoint,
    /// <summary>A privileged or malformed instruction (#GP), e.g. <c>hlt</c> or <c>int n</c>. RIP is the instruction.</summary>
    GeneralProtection,
    /// <summary>Someone asked this CPU to stop at the next block boundary (a signal is pending).</summary>
    Interrupted,
}

/// <summary>The kind of access that faulted.</summary>
public enum AccessKind
{
    Read,
    Write,
    Execute,
}
