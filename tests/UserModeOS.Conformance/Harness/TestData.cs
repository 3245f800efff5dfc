namespace UserModeOS.Conformance.Harness;

/// <summary>Deterministic test inputs.</summary>
public static class TestData
{
    /// <summary><paramref name="length"/> pseudo-random bytes, the same for a given seed on every run and machine.</summary>
    public static byte[] PseudoRandom(int length, ulong seed)
    {
        var bytes = new byte[length];
        var x = seed | 1;
        for (var i = 0; i < length; i += 8)
        {
            // xorshift64*
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            var v = x * 0x2545F4914F6CDD1DUL;
            for (var j = 0; j < 8 && i + j < length; j++)
            {
                bytes[i + j] = (byte)(v >> (8 * j));
            }
        }

        return bytes;
    }
}
