namespace UserModeOS.Cpu.Instructions;

/// <summary>A condition code known when the handler is compiled, so the lazy-flag evaluation folds to the one test it needs.</summary>
internal interface ICc
{
    static abstract int Value { get; }
}

/// <summary>The condition codes as types, 0 = O ... 15 = G.</summary>
internal static class ConditionCodes
{
    internal struct C0 : ICc { public static int Value => 0; }
    internal struct C1 : ICc { public static int Value => 1; }
    internal struct C2 : ICc { public static int Value => 2; }
    internal struct C3 : ICc { public static int Value => 3; }
    internal struct C4 : ICc { public static int Value => 4; }
    internal struct C5 : ICc { public static int Value => 5; }
    internal struct C6 : ICc { public static int Value => 6; }
    internal struct C7 : ICc { public static int Value => 7; }
    internal struct C8 : ICc { public static int Value => 8; }
    internal struct C9 : ICc { public static int Value => 9; }
    internal struct C10 : ICc { public static int Value => 10; }
    internal struct C11 : ICc { public static int Value => 11; }
    internal struct C12 : ICc { public static int Value => 12; }
    internal struct C13 : ICc { public static int Value => 13; }
    internal struct C14 : ICc { public static int Value => 14; }
    internal struct C15 : ICc { public static int Value => 15; }
}
