using System.Buffers.Binary;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Sched;

namespace UserModeOS.Syscalls;

/// <summary>futex(2): the wait/wake operations glibc and musl use for every lock and condition.</summary>
internal static unsafe class Futex
{
    private const int OpMask = 127, PrivateFlag = 128, ClockRealtimeFlag = 256;
    private const int Wait = 0, Wake = 1, Requeue = 3, CmpRequeue = 4, WakeOp = 5, WaitBitset = 9, WakeBitset = 10;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Futex, &FutexCall, Arg.Ptr, Arg.Hex, Arg.Int, Arg.Ptr, Arg.Ptr, Arg.Hex);
    }

    private static long FutexCall(Task t, in SyscallArgs a)
    {
        var address = a.A0;
        var op = (int)a.A1;
        var cmd = op & OpMask;
        var isPrivate = (op & PrivateFlag) != 0;
        var realtime = (op & ClockRealtimeFlag) != 0;
        var value = (uint)a.A2;
        var futexes = t.Kernel.Futexes;
        // Linux accepts FUTEX_CLOCK_REALTIME only with FUTEX_WAIT_BITSET (and the PI operations we don't offer).
        if (realtime && cmd != WaitBitset)
        {
            return Errors.ENOSYS;
        }

        switch (cmd)
        {
            case Wait or WaitBitset:
            {
                var bitset = cmd == Wait ? Futexes.BitsetMatchAny : (uint)a.A5;
                var deadline = Deadline.Never;
                if (a.A3 != 0)
                {
                    var e = Time.ReadTimespec(t, a.A3, out var seconds, out var nanos);
                    if (e != Errno.None)
                    {
                        return Errors.Fail(e);
                    }

                    // FUTEX_WAIT takes a relative timeout; FUTEX_WAIT_BITSET an absolute one (futex(2)).
                    deadline = cmd == Wait
                        ? Deadline.After(TimeSpan.FromTicks((seconds * TimeSpan.TicksPerSecond) + (nanos / 100)))
                        : Clocks.DeadlineAt((seconds * 1_000_000_000) + nanos, realtime);
                }

                return futexes.Wait(t, address, value, bitset, deadline, isPrivate);
            }

            case Wake or WakeBitset:
                return futexes.Wake(t, address, (int)Math.Min(value, int.MaxValue), cmd == Wake ? Futexes.BitsetMatchAny : (uint)a.A5, isPrivate);
            case Requeue or CmpRequeue:
                return futexes.Requeue(t, address, (int)Math.Min(value, int.MaxValue), (int)Math.Min((uint)a.A3, int.MaxValue), a.A4,
                    cmd == CmpRequeue ? (uint)a.A5 : null, isPrivate);
            case WakeOp:
                return futexes.WakeOp(t, address, (int)Math.Min(value, int.MaxValue), (int)Math.Min((uint)a.A3, int.MaxValue), a.A4, (uint)a.A5, isPrivate);
            default:
                // The priority-inheritance operations are not offered.
                return Errors.ENOSYS;
        }
    }
}
