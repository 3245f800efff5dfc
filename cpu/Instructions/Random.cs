using System.Buffers.Binary;
using System.Security.Cryptography;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu
{
    // The entropy pool RDRAND/RDSEED draw from: filled from the host's cryptographic generator a
    // block at a time, so the instructions do not allocate or call the OS every time. Each CPU has
    // its own pool (a forked child's CpuState starts with an empty one, so parent and child never
    // share values), and a value is never handed out twice.
    public sealed partial class CpuState
    {
        private const int RandomPoolBytes = 512;

        private readonly byte[] _randomPool = new byte[RandomPoolBytes];
        private int _randomNext = RandomPoolBytes;

        /// <summary>The next 64 cryptographically random bits.</summary>
        internal ulong NextRandom()
        {
            if (_randomNext > RandomPoolBytes - 8)
            {
                RandomNumberGenerator.Fill(_randomPool);
                _randomNext = 0;
            }

            var span = _randomPool.AsSpan(_randomNext, 8);
            var v = BinaryPrimitives.ReadUInt64LittleEndian(span);
            span.Clear();
            _randomNext += 8;
            return v;
        }
    }
}

namespace UserModeOS.Cpu.Instructions
{
    /// <summary>
    /// RDRAND and RDSEED (r16/r32/r64): a random value from the host's cryptographic generator
    /// (<see cref="RandomNumberGenerator"/>) and CF = 1 (a value is always available); OF, SF, ZF,
    /// AF and PF are cleared (SDM "RDRAND"). RDSEED draws from the same source, which is itself
    /// seeded by the OS's entropy pool, so it satisfies RDSEED's contract as well.
    /// </summary>
    internal static unsafe class RandomOps
    {
        public static void Register()
        {
            OpTable.AddMnemonic(Mnemonic.Rdrand, Build);
            OpTable.AddMnemonic(Mnemonic.Rdseed, Build);
        }

        private static bool Build(in Instruction insn, ref Op op)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            op.Handler = Sized.Pick(insn.Op0Register.GetSize(), null, &Rd<W16>, &Rd<W32>, &Rd<W64>);
            return op.Handler != null;
        }

        private static int Rd<W>(CpuState c, Op* op)
            where W : IWidth
        {
            W.Set(c, op->R0, c.NextRandom());
            BitOps.SetAllFlags(c, CpuState.CF);
            return 0;
        }
    }
}
