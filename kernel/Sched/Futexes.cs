using System.Buffers.Binary;
using UserModeOS.Kernel.Sched;

namespace UserModeOS.Kernel;

/// <summary>
/// The futex waiters of one kernel instance (futex(2)). A futex is identified by its address
/// space and address, or, in a MAP_SHARED mapping, by the host page behind it, so that
/// processes sharing memory meet on the same futex.
/// </summary>
public sealed class Futexes
{
    public const uint BitsetMatchAny = uint.MaxValue;
    private const uint FutexWaiters = 0x80000000, FutexOwnerDied = 0x40000000, FutexTidMask = 0x3FFFFFFF;
    private const int RobustListLimit = 2048;

    private readonly WaitQueue _queue = new();
    private readonly List<Waiter> _waiters = new();

    private sealed class Waiter(object space, ulong address, uint bitset)
    {
        public object Space = space;
        public ulong Address = address;
        public readonly uint Bitset = bitset;
        public bool Woken;
    }

    /// <summary>The identity of the futex word; null when the address faults.</summary>
    private static (object Space, ulong Address)? Key(Task t, ulong address, bool isPrivate)
    {
        if ((address & 3) != 0)
        {
            return null;
        }

        var mm = t.Group.Mm;
        if (!isPrivate && mm.Find(address) is { Shared: true })
        {
            var host = mm.Memory.HostAddressForRead(address);
            return host == 0 ? null : (SharedMemory, (ulong)host);
        }

        return (mm, address);
    }

    private static readonly object SharedMemory = new();

    /// <summary>The futex's key for a wait or wake, or the errno for a zero bitset (EINVAL), misalignment (EINVAL) or a bad address (EFAULT).</summary>
    private static long CheckedKey(Task t, ulong address, uint bitset, bool isPrivate, out (object Space, ulong Address) key)
    {
        key = default;
        if (bitset == 0 || (address & 3) != 0)
        {
            return -(long)Errno.EINVAL;
        }

        if (Key(t, address, isPrivate) is not { } k)
        {
            return -(long)Errno.EFAULT;
        }

        key = k;
        return 0;
    }

    /// <summary>FUTEX_WAIT(_BITSET): sleeps if the word still holds <paramref name="expected"/>.</summary>
    public long Wait(Task t, ulong address, uint expected, uint bitset, Deadline deadline, bool isPrivate)
    {
        var error = CheckedKey(t, address, bitset, isPrivate, out var key);
        if (error != 0)
        {
            return error;
        }

        lock (_queue.SyncRoot)
        {
            Span<byte> word = stackalloc byte[4];
            if (!t.CopyIn(address, word))
            {
                return -(long)Errno.EFAULT;
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(word) != expected)
            {
                return -(long)Errno.EAGAIN;
            }

            var waiter = new Waiter(key.Space, key.Address, bitset);
            _waiters.Add(waiter);
            var r = _queue.Wait(t, () => waiter.Woken, deadline);
            if (waiter.Woken)
            {
                return 0;
            }

            _waiters.Remove(waiter);
            return r;
        }
    }

    /// <summary>FUTEX_WAKE(_BITSET): wakes up to <paramref name="count"/> waiters; returns how many.</summary>
    public long Wake(Task t, ulong address, int count, uint bitset, bool isPrivate)
    {
        var error = CheckedKey(t, address, bitset, isPrivate, out var key);
        if (error != 0)
        {
            return error;
        }

        lock (_queue.SyncRoot)
        {
            var woken = WakeLocked(key, count, bitset);
            if (woken > 0)
            {
                Monitor.PulseAll(_queue.SyncRoot);
            }

            return woken;
        }
    }

    private int WakeLocked((object Space, ulong Address) key, int count, uint bitset)
    {
        var woken = 0;
        for (var i = 0; i < _waiters.Count && woken < count; i++)
        {
            var w = _waiters[i];
            if (w.Address == key.Address && ReferenceEquals(w.Space, key.Space) && (w.Bitset & bitset) != 0)
            {
                w.Woken = true;
                _waiters.RemoveAt(i--);
                woken++;
            }
        }

        return woken;
    }

    /// <summary>
    /// FUTEX_REQUEUE / FUTEX_CMP_REQUEUE: wakes <paramref name="wakeCount"/> waiters and moves
    /// up to <paramref name="requeueCount"/> more to the second futex.
    /// </summary>
    public long Requeue(Task t, ulong address, int wakeCount, int requeueCount, ulong address2, uint? expected, bool isPrivate)
    {
        var key = Key(t, address, isPrivate);
        var key2 = Key(t, address2, isPrivate);
        if (key is null || key2 is null)
        {
            return -(long)Errno.EFAULT;
        }

        lock (_queue.SyncRoot)
        {
            if (expected is { } cmp)
            {
                Span<byte> word = stackalloc byte[4];
                if (!t.CopyIn(address, word))
                {
                    return -(long)Errno.EFAULT;
                }

                if (BinaryPrimitives.ReadUInt32LittleEndian(word) != cmp)
                {
                    return -(long)Errno.EAGAIN;
                }
            }

            var woken = WakeLocked(key.Value, wakeCount, BitsetMatchAny);
            var moved = 0;
            foreach (var w in _waiters)
            {
                if (moved >= requeueCount)
                {
                    break;
                }

                if (w.Address == key.Value.Address && ReferenceEquals(w.Space, key.Value.Space))
                {
                    w.Space = key2.Value.Space;
                    w.Address = key2.Value.Address;
                    moved++;
                }
            }

            Monitor.PulseAll(_queue.SyncRoot);
            // Both operations return the woken plus the requeued waiters (futex_requeue's task_count).
            return woken + moved;
        }
    }

    /// <summary>FUTEX_WAKE_OP: atomically updates the second word, wakes on the first and, if the old value passes the test, on the second.</summary>
    public long WakeOp(Task t, ulong address, int count, int count2, ulong address2, uint encodedOp, bool isPrivate)
    {
        var key = Key(t, address, isPrivate);
        var key2 = Key(t, address2, isPrivate);
        if (key is null || key2 is null)
        {
            return -(long)Errno.EFAULT;
        }

        var op = (int)((encodedOp >> 28) & 7);
        var shiftArg = (encodedOp >> 31) != 0;
        var cmp = (int)((encodedOp >> 24) & 15);
        // 12-bit signed fields: oparg in bits 12-23, cmparg in bits 0-11.
        var oparg = (int)(((encodedOp >> 12) & 0xFFF) << 20) >> 20;
        var cmparg = (int)((encodedOp & 0xFFF) << 20) >> 20;
        if (shiftArg)
        {
            oparg = 1 << (oparg & 31);
        }

        lock (_queue.SyncRoot)
        {
            uint Apply(uint v) => op switch
            {
                0 => (uint)oparg,
                1 => v + (uint)oparg,
                2 => v | (uint)oparg,
                3 => v & ~(uint)oparg,
                _ => v ^ (uint)oparg,
            };

            if (op > 4)
            {
                return -(long)Errno.ENOSYS;
            }

            if (!t.Group.Mm.Memory.TryAtomicUpdate32(address2, Apply, out var oldWord))
            {
                return -(long)Errno.EFAULT;
            }

            var old = (int)oldWord;
            var woken = WakeLocked(key.Value, count, BitsetMatchAny);
            var pass = cmp switch
            {
                0 => old == cmparg,
                1 => old != cmparg,
                2 => old < cmparg,
                3 => old <= cmparg,
                4 => old > cmparg,
                5 => old >= cmparg,
                _ => false,
            };
            if (pass)
            {
                woken += WakeLocked(key2.Value, count2, BitsetMatchAny);
            }

            Monitor.PulseAll(_queue.SyncRoot);
            return woken;
        }
    }

    /// <summary>
    /// At thread exit, marks the robust mutexes it still holds as owner-died and wakes a
    /// waiter on each (set_robust_list(2)).
    /// </summary>
    public void ReleaseRobustList(Task t)
    {
        var head = t.RobustListHead;
        if (head == 0)
        {
            return;
        }

        Span<byte> b = stackalloc byte[24];
        if (!t.CopyIn(head, b))
        {
            return;
        }

        var next = BinaryPrimitives.ReadUInt64LittleEndian(b);
        var offset = BinaryPrimitives.ReadInt64LittleEndian(b[8..]);
        var pending = BinaryPrimitives.ReadUInt64LittleEndian(b[16..]);
        Span<byte> link = stackalloc byte[8];
        for (var i = 0; next != head && next != 0 && i < RobustListLimit; i++)
        {
            var entry = next;
            if (!t.CopyIn(entry, link))
            {
                break;
            }

            next = BinaryPrimitives.ReadUInt64LittleEndian(link);
            if (entry != pending)
            {
                MarkOwnerDied(t, entry + (ulong)offset);
            }
        }

        if (pending != 0)
        {
            MarkOwnerDied(t, pending + (ulong)offset);
        }
    }

    private void MarkOwnerDied(Task t, ulong address)
    {
        var tid = (uint)t.Tid;
        var owned = false;
        uint Update(uint v)
        {
            owned = (v & FutexTidMask) == tid;
            return owned ? (v & FutexWaiters) | FutexOwnerDied : v;
        }

        if (t.Group.Mm.Memory.TryAtomicUpdate32(address, Update, out var old) && owned && (old & FutexWaiters) != 0)
        {
            Wake(t, address, 1, BitsetMatchAny, isPrivate: false);
        }
    }
}
