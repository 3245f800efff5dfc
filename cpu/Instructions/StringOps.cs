using System.Runtime.CompilerServices;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;
using UserModeOS.Cpu.Memory;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// MOVS, STOS, LODS, CMPS, SCAS in every size, with REP/REPE/REPNE and the direction flag.
/// </summary>
/// <remarks>
/// Repeated forms update RCX/RSI/RDI as they go, so a page fault part-way leaves the
/// registers describing the remaining work and restarting the instruction (RIP is the
/// instruction after a fault) resumes it, as on hardware. Long repeats also stop after a
/// work budget and restart themselves so that interrupt requests are seen promptly.
/// Forward REP MOVS/STOS copy or fill a page-bounded chunk at a time through host pointers.
/// </remarks>
internal static unsafe class StringOps
{
    private const byte Rax = 0, Rcx = 1 * 8, Rsi = 6 * 8, Rdi = 7 * 8;

    /// <summary>Work units (bytes, or 16 per element on the element-by-element path) before a repeat yields.</summary>
    private const long Budget = 1 << 20;

    public static void Register()
    {
        OpTable.Add(Code.Movsb_m8_m8, Build(&Movs<W8>, &RepMovs<W8>, &RepMovs<W8>));
        OpTable.Add(Code.Movsw_m16_m16, Build(&Movs<W16>, &RepMovs<W16>, &RepMovs<W16>));
        OpTable.Add(Code.Movsd_m32_m32, Build(&Movs<W32>, &RepMovs<W32>, &RepMovs<W32>));
        OpTable.Add(Code.Movsq_m64_m64, Build(&Movs<W64>, &RepMovs<W64>, &RepMovs<W64>));
        OpTable.Add(Code.Stosb_m8_AL, Build(&Stos<W8>, &RepStos<W8>, &RepStos<W8>));
        OpTable.Add(Code.Stosw_m16_AX, Build(&Stos<W16>, &RepStos<W16>, &RepStos<W16>));
        OpTable.Add(Code.Stosd_m32_EAX, Build(&Stos<W32>, &RepStos<W32>, &RepStos<W32>));
        OpTable.Add(Code.Stosq_m64_RAX, Build(&Stos<W64>, &RepStos<W64>, &RepStos<W64>));
        OpTable.Add(Code.Lodsb_AL_m8, Build(&Lods<W8>, &RepLods<W8>, &RepLods<W8>));
        OpTable.Add(Code.Lodsw_AX_m16, Build(&Lods<W16>, &RepLods<W16>, &RepLods<W16>));
        OpTable.Add(Code.Lodsd_EAX_m32, Build(&Lods<W32>, &RepLods<W32>, &RepLods<W32>));
        OpTable.Add(Code.Lodsq_RAX_m64, Build(&Lods<W64>, &RepLods<W64>, &RepLods<W64>));
        OpTable.Add(Code.Cmpsb_m8_m8, Build(&Cmps<W8>, &RepCmps<W8, WhileEqual>, &RepCmps<W8, WhileNotEqual>));
        OpTable.Add(Code.Cmpsw_m16_m16, Build(&Cmps<W16>, &RepCmps<W16, WhileEqual>, &RepCmps<W16, WhileNotEqual>));
        OpTable.Add(Code.Cmpsd_m32_m32, Build(&Cmps<W32>, &RepCmps<W32, WhileEqual>, &RepCmps<W32, WhileNotEqual>));
        OpTable.Add(Code.Cmpsq_m64_m64, Build(&Cmps<W64>, &RepCmps<W64, WhileEqual>, &RepCmps<W64, WhileNotEqual>));
        OpTable.Add(Code.Scasb_AL_m8, Build(&Scas<W8>, &RepScas<W8, WhileEqual>, &RepScas<W8, WhileNotEqual>));
        OpTable.Add(Code.Scasw_AX_m16, Build(&Scas<W16>, &RepScas<W16, WhileEqual>, &RepScas<W16, WhileNotEqual>));
        OpTable.Add(Code.Scasd_EAX_m32, Build(&Scas<W32>, &RepScas<W32, WhileEqual>, &RepScas<W32, WhileNotEqual>));
        OpTable.Add(Code.Scasq_RAX_m64, Build(&Scas<W64>, &RepScas<W64, WhileEqual>, &RepScas<W64, WhileNotEqual>));
    }

    /// <summary>
    /// Picks the plain, F3 (REP/REPE) or F2 (REPNE) handler. F2 on MOVS/STOS/LODS repeats
    /// like F3 on hardware, so those pass the same handler twice.
    /// </summary>
    private static OpBuilder Build(
        delegate*<CpuState, Op*, int> once,
        delegate*<CpuState, Op*, int> repe,
        delegate*<CpuState, Op*, int> repne) => (in Instruction insn, ref Op op) =>
    {
        // 32-bit address size (67h: ESI/EDI/ECX) is not supported.
        if (!Is64(insn.Op0Kind) || !Is64(insn.Op1Kind))
        {
            return false;
        }

        // Only the RSI operand can take a segment override; ES (RDI) has no base.
        op.Seg = insn.MemorySegment switch
        {
            Iced.Intel.Register.FS => RegSlot.FsBase,
            Iced.Intel.Register.GS => RegSlot.GsBase,
            _ => RegSlot.Zero,
        };
        op.Handler = insn.HasRepePrefix ? repe : insn.HasRepnePrefix ? repne : once;
        return true;
    };

    private static bool Is64(OpKind k) => k is OpKind.Register or OpKind.MemorySegRSI or OpKind.MemoryESRDI;

    /// <summary>The element stride: negative when DF is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Step<W>(CpuState c)
        where W : IWidth => (c.FlagsOther & CpuState.DF) != 0 ? (ulong)-(W.Bits / 8) : (ulong)(W.Bits / 8);

    private static int Movs<W>(CpuState c, Op* op)
        where W : IWidth
    {
        ref var rsi = ref c.Reg64(Rsi);
        ref var rdi = ref c.Reg64(Rdi);
        W.Store(c, rdi, W.Load(c, c.Reg64(op->Seg) + rsi));
        var d = Step<W>(c);
        rsi += d;
        rdi += d;
        return 0;
    }

    private static int Stos<W>(CpuState c, Op* op)
        where W : IWidth
    {
        ref var rdi = ref c.Reg64(Rdi);
        W.Store(c, rdi, W.Get(c, Rax));
        rdi += Step<W>(c);
        return 0;
    }

    private static int Lods<W>(CpuState c, Op* op)
        where W : IWidth
    {
        ref var rsi = ref c.Reg64(Rsi);
        W.Set(c, Rax, W.Load(c, c.Reg64(op->Seg) + rsi));
        rsi += Step<W>(c);
        return 0;
    }

    private static int Cmps<W>(CpuState c, Op* op)
        where W : IWidth
    {
        ref var rsi = ref c.Reg64(Rsi);
        ref var rdi = ref c.Reg64(Rdi);
        var a = W.Load(c, c.Reg64(op->Seg) + rsi);
        var b = W.Load(c, rdi);
        SubOp.Exec<W>(c, a, b);
        var d = Step<W>(c);
        rsi += d;
        rdi += d;
        return 0;
    }

    private static int Scas<W>(CpuState c, Op* op)
        where W : IWidth
    {
        ref var rdi = ref c.Reg64(Rdi);
        SubOp.Exec<W>(c, W.Get(c, Rax), W.Load(c, rdi));
        rdi += Step<W>(c);
        return 0;
    }

    /// <summary>Out of budget with work left: end the block and run this instruction again.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Yield(CpuState c, Op* op)
    {
        c.Rip = op->Rip;
        return 1;
    }

    private static int RepMovs<W>(CpuState c, Op* op)
        where W : IWidth
    {
        ref var rcx = ref c.Reg64(Rcx);
        ref var rsi = ref c.Reg64(Rsi);
        ref var rdi = ref c.Reg64(Rdi);
        var seg = c.Reg64(op->Seg);
        var size = (ulong)(W.Bits / 8);
        var forward = (c.FlagsOther & CpuState.DF) == 0;
        long work = 0;
        while (rcx != 0)
        {
            if (work >= Budget)
            {
                return Yield(c, op);
            }

            var src = seg + rsi;
            var dst = rdi;
            var room = Math.Min(0x1000 - (src & 0xFFF), 0x1000 - (dst & 0xFFF)) / size;
            var n = Math.Min(rcx, room);
            if (forward && n >= 2)
            {
                // Both pointers are probed (and may fault) before anything is copied.
                var s = HostRead(c, src);
                var d = c.TranslateWrite(dst, 1);
                var bytes = n * size;
                if (s != 0 && d != 0)
                {
                    // Element-by-element forward copy equals memmove unless the destination
                    // starts inside the source chunk (then earlier stores feed later loads).
                    if ((ulong)(d - s) >= bytes)
                    {
                        Buffer.MemoryCopy((void*)s, (void*)d, bytes, bytes);
                    }
                    else
                    {
                        for (var i = 0UL; i < bytes; i += size)
                        {
                            CopyHost<W>(s + (nint)i, d + (nint)i);
                        }
                    }

                    rsi += bytes;
                    rdi += bytes;
                    rcx -= n;
                    work += (long)bytes;
                    continue;
                }
            }

            W.Store(c, dst, W.Load(c, src));
            var step = forward ? size : (ulong)-(long)size;
            rsi += step;
            rdi += step;
            rcx--;
            work += 16;
        }

        return 0;
    }

    private static int RepStos<W>(CpuState c, Op* op)
        where W : IWidth
    {
        ref var rcx = ref c.Reg64(Rcx);
        ref var rdi = ref c.Reg64(Rdi);
        var v = W.Get(c, Rax);
        var size = (ulong)(W.Bits / 8);
        var forward = (c.FlagsOther & CpuState.DF) == 0;
        long work = 0;
        while (rcx != 0)
        {
            if (work >= Budget)
            {
                return Yield(c, op);
            }

            var dst = rdi;
            var n = Math.Min(rcx, (0x1000 - (dst & 0xFFF)) / size);
            if (forward && n >= 2)
            {
                var d = c.TranslateWrite(dst, 1);
                Fill<W>(d, (int)n, v);
                var bytes = n * size;
                rdi += bytes;
                rcx -= n;
                work += (long)bytes;
                continue;
            }

            W.Store(c, dst, v);
            rdi += forward ? size : (ulong)-(long)size;
            rcx--;
            work += 16;
        }

        return 0;
    }

    private static int RepLods<W>(CpuState c, Op* op)
        where W : IWidth
    {
        ref var rcx = ref c.Reg64(Rcx);
        ref var rsi = ref c.Reg64(Rsi);
        var seg = c.Reg64(op->Seg);
        var step = Step<W>(c);
        long work = 0;
        while (rcx != 0)
        {
            if (work >= Budget)
            {
                return Yield(c, op);
            }

            W.Set(c, Rax, W.Load(c, seg + rsi));
            rsi += step;
            rcx--;
            work += 16;
        }

        return 0;
    }

    private static int RepCmps<W, Z>(CpuState c, Op* op)
        where W : IWidth
        where Z : IRepeatCondition
    {
        ref var rcx = ref c.Reg64(Rcx);
        ref var rsi = ref c.Reg64(Rsi);
        ref var rdi = ref c.Reg64(Rdi);
        var seg = c.Reg64(op->Seg);
        var step = Step<W>(c);
        long work = 0;
        while (rcx != 0)
        {
            if (work >= Budget)
            {
                return Yield(c, op);
            }

            var a = W.Load(c, seg + rsi);
            var b = W.Load(c, rdi);
            SubOp.Exec<W>(c, a, b);
            rsi += step;
            rdi += step;
            rcx--;
            work += 16;
            if (!Z.Continue(a == b))
            {
                break;
            }
        }

        return 0;
    }

    private static int RepScas<W, Z>(CpuState c, Op* op)
        where W : IWidth
        where Z : IRepeatCondition
    {
        ref var rcx = ref c.Reg64(Rcx);
        ref var rdi = ref c.Reg64(Rdi);
        var a = W.Get(c, Rax);
        var step = Step<W>(c);
        long work = 0;
        while (rcx != 0)
        {
            if (work >= Budget)
            {
                return Yield(c, op);
            }

            var b = W.Load(c, rdi);
            SubOp.Exec<W>(c, a, b);
            rdi += step;
            rcx--;
            work += 16;
            if (!Z.Continue(a == b))
            {
                break;
            }
        }

        return 0;
    }

    /// <summary>The host address of a readable guest byte (faulting like a read), 0 if the page vanished meanwhile.</summary>
    private static nint HostRead(CpuState c, ulong a)
    {
        c.Read8(a);
        return c.Memory.Translate(a, AccessKind.Read);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyHost<W>(nint s, nint d)
        where W : IWidth
    {
        switch (W.Bits)
        {
            case 8: *(byte*)d = *(byte*)s; break;
            case 16: Unsafe.WriteUnaligned((void*)d, Unsafe.ReadUnaligned<ushort>((void*)s)); break;
            case 32: Unsafe.WriteUnaligned((void*)d, Unsafe.ReadUnaligned<uint>((void*)s)); break;
            default: Unsafe.WriteUnaligned((void*)d, Unsafe.ReadUnaligned<ulong>((void*)s)); break;
        }
    }

    private static void Fill<W>(nint d, int n, ulong v)
        where W : IWidth
    {
        switch (W.Bits)
        {
            case 8: new Span<byte>((void*)d, n).Fill((byte)v); break;
            case 16: new Span<ushort>((void*)d, n).Fill((ushort)v); break;
            case 32: new Span<uint>((void*)d, n).Fill((uint)v); break;
            default: new Span<ulong>((void*)d, n).Fill(v); break;
        }
    }
}

/// <summary>When a REPE/REPNE compare keeps going, given whether the elements were equal.</summary>
internal interface IRepeatCondition
{
    static abstract bool Continue(bool equal);
}

internal struct WhileEqual : IRepeatCondition
{
    public static bool Continue(bool equal) => equal;
}

internal struct WhileNotEqual : IRepeatCondition
{
    public static bool Continue(bool equal) => !equal;
}
