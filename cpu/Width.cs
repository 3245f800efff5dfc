using System.Runtime.CompilerServices;

namespace UserModeOS.Cpu;

/// <summary>
/// An operand size as a type, so one generic handler body is specialised by the JIT into
/// a separate, branch-free handler per size.
/// </summary>
internal interface IWidth
{
    static abstract int Bits { get; }
    static abstract int SizeLog { get; }
    static abstract ulong Mask { get; }

    /// <summary>Reads a register (byte offset into the register file).</summary>
    static abstract ulong Get(CpuState c, byte reg);

    /// <summary>Writes a register with x86-64 rules: 32-bit writes zero the upper half, 8/16-bit merge.</summary>
    static abstract void Set(CpuState c, byte reg, ulong value);

    static abstract ulong Load(CpuState c, ulong address);
    static abstract void Store(CpuState c, ulong address, ulong value);

    /// <summary>Sign-extends a value of this size to 64 bits.</summary>
    static abstract long Sext(ulong value);
}

internal readonly struct W8 : IWidth
{
    public static int Bits => 8;
    public static int SizeLog => 0;
    public static ulong Mask => 0xFF;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Get(CpuState c, byte reg) => Unsafe.Add(ref c.RegBytes, reg);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set(CpuState c, byte reg, ulong value) => Unsafe.Add(ref c.RegBytes, reg) = (byte)value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(CpuState c, ulong address) => c.Read8(address);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(CpuState c, ulong address, ulong value) => c.Write8(address, (byte)value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Sext(ulong value) => (sbyte)value;
}

internal readonly struct W16 : IWidth
{
    public static int Bits => 16;
    public static int SizeLog => 1;
    public static ulong Mask => 0xFFFF;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Get(CpuState c, byte reg) => Unsafe.As<byte, ushort>(ref Unsafe.Add(ref c.RegBytes, reg));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set(CpuState c, byte reg, ulong value) => Unsafe.As<byte, ushort>(ref Unsafe.Add(ref c.RegBytes, reg)) = (ushort)value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(CpuState c, ulong address) => c.Read16(address);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(CpuState c, ulong address, ulong value) => c.Write16(address, (ushort)value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Sext(ulong value) => (short)value;
}

internal readonly struct W32 : IWidth
{
    public static int Bits => 32;
    public static int SizeLog => 2;
    public static ulong Mask => 0xFFFF_FFFF;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Get(CpuState c, byte reg) => Unsafe.As<byte, uint>(ref Unsafe.Add(ref c.RegBytes, reg));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set(CpuState c, byte reg, ulong value) => c.Reg64(reg) = (uint)value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(CpuState c, ulong address) => c.Read32(address);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(CpuState c, ulong address, ulong value) => c.Write32(address, (uint)value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Sext(ulong value) => (int)value;
}

internal readonly struct W64 : IWidth
{
    public static int Bits => 64;
    public static int SizeLog => 3;
    public static ulong Mask => ulong.MaxValue;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Get(CpuState c, byte reg) => c.Reg64(reg);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set(CpuState c, byte reg, ulong value) => c.Reg64(reg) = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(CpuState c, ulong address) => c.Read64(address);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(CpuState c, ulong address, ulong value) => c.Write64(address, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Sext(ulong value) => (long)value;
}
