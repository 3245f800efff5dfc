using Iced.Intel;
using UserModeOS.Cpu.Instructions;

namespace UserModeOS.Cpu.Decoding;

/// <summary>
/// Fills an op for one decoded instruction: picks the handler for its operand forms and
/// copies the fields the handler needs. Returns false for a form we do not implement.
/// </summary>
internal delegate bool OpBuilder(in Instruction insn, ref Op op);

/// <summary>From Iced's <see cref="Code"/> (operand-specific) to the builder of its op.</summary>
internal static class OpTable
{
    private static readonly int CodeCount = Enum.GetValues<Code>().Length;
    private static readonly OpBuilder?[] Builders = new OpBuilder?[CodeCount];

    // The legacy-encoded codes of each mnemonic, in code order. Registration looks a mnemonic's
    // forms up here: scanning all ~4,900 codes for each of its ~250 calls cost every start-up
    // of umos tens of milliseconds.
    private static readonly Code[][] LegacyCodesByMnemonic = IndexLegacyCodes();

    static OpTable()
    {
        // One call per instruction group; each group file registers its own codes.
        Alu.Register();
        Unary.Register();
        Shifts.Register();
        MulDiv.Register();
        BitOps.Register();
        Moves.Register();
        Conditional.Register();
        FlagOps.Register();
        Stack.Register();
        Branches.Register();
        StringOps.Register();
        Atomics.Register();
        SystemOps.Register();
        SseMoves.Register();
        SseInteger.Register();
        SseFloat.Register();
        SseEstimates.Register();
        Sse3Ops.Register();
        Ssse3Ops.Register();
        Sse41Ops.Register();
        MmxInteger.Register();
        MmxMoves.Register();
        X87Arith.Register();
        X87Moves.Register();
        X87Compare.Register();
        X87Control.Register();
        X87Transcendental.Register();
        Sse42.Register();
        Bmi.Register();
        Crypto.Register();
        Xsave.Register();
        RandomOps.Register();
    }

    public static void Add(Code code, OpBuilder builder)
    {
        if (Builders[(int)code] is not null)
        {
            throw new InvalidOperationException($"{code} is registered twice");
        }

        Builders[(int)code] = builder;
    }

    /// <summary>Registers a builder for every legacy-encoded code of a mnemonic (all its operand forms).</summary>
    public static void AddMnemonic(Mnemonic mnemonic, OpBuilder builder)
    {
        foreach (var code in LegacyCodes(mnemonic))
        {
            Add(code, builder);
        }
    }

    /// <summary>The legacy-encoded codes (operand forms) of a mnemonic, in code order.</summary>
    public static ReadOnlySpan<Code> LegacyCodes(Mnemonic mnemonic) => LegacyCodesByMnemonic[(int)mnemonic];

    private static Code[][] IndexLegacyCodes()
    {
        var lists = new List<Code>?[Enum.GetValues<Mnemonic>().Length];
        for (var i = 0; i < CodeCount; i++)
        {
            var code = (Code)i;
            if (code.Encoding() == EncodingKind.Legacy)
            {
                (lists[(int)code.Mnemonic()] ??= new List<Code>()).Add(code);
            }
        }

        var index = new Code[lists.Length][];
        for (var i = 0; i < lists.Length; i++)
        {
            index[i] = lists[i]?.ToArray() ?? [];
        }

        return index;
    }

    /// <summary>True when the code has a builder (what CPUID may advertise rests on this).</summary>
    public static bool IsImplemented(Code code) => Builders[(int)code] is not null;

    public static bool Build(in Instruction insn, ref Op op) =>
        Builders[(int)insn.Code] is { } builder && builder(in insn, ref op);
}
