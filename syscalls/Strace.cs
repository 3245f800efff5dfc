using System.Text;
using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>Renders a syscall the way strace(1) prints it: <c>name(args) = result</c>.</summary>
internal static class Strace
{
    private const int MaxShown = 32;
    private const int AtFdCwd = -100;

    public static string[] RenderInputs(Task task, Arg[]? kinds, in SyscallArgs args)
    {
        if (kinds is null)
        {
            return new[] { $"0x{args.A0:x}", $"0x{args.A1:x}", $"0x{args.A2:x}", $"0x{args.A3:x}", $"0x{args.A4:x}", $"0x{args.A5:x}" };
        }

        var shown = new string[kinds.Length];
        for (var i = 0; i < kinds.Length; i++)
        {
            var v = args[i];
            shown[i] = kinds[i] switch
            {
                Arg.Int => ((long)v).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Arg.Fd => (int)v == AtFdCwd ? "AT_FDCWD" : ((int)v).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Arg.Str => task.ReadString(v) is { } s ? Quote(Encoding.UTF8.GetBytes(s), int.MaxValue) : Pointer(v),
                Arg.Buf when i + 1 < 6 => Buffer(task, v, (long)Math.Min(args[i + 1], 4096)),
                Arg.Ptr => Pointer(v),
                _ => $"0x{v:x}",
            };
        }

        return shown;
    }

    public static string Finish(Task task, int nr, Arg[]? kinds, in SyscallArgs args, string[] shown, long result)
    {
        if (kinds is not null)
        {
            for (var i = 0; i < kinds.Length; i++)
            {
                if (kinds[i] == Arg.OutBuf)
                {
                    shown[i] = result >= 0 ? Buffer(task, args[i], Math.Min(result, 4096)) : Pointer(args[i]);
                }
            }
        }

        var sb = new StringBuilder();
        sb.Append('[').Append(task.Tid).Append("] ").Append(SyscallNames.Of(nr)).Append('(');
        sb.AppendJoin(", ", shown);
        sb.Append(") = ");
        if (result < 0 && result >= -4095)
        {
            var e = (Errno)(-result);
            sb.Append("-1 ").Append(e);
        }
        else if (result > 0xFFFF || result < 0)
        {
            sb.Append("0x").Append(result.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            sb.Append(result);
        }

        return sb.ToString();
    }

    private static string Pointer(ulong v) => v == 0 ? "NULL" : $"0x{v:x}";

    private static string Buffer(Task task, ulong address, long length)
    {
        if (length <= 0)
        {
            return "\"\"";
        }

        var bytes = new byte[Math.Min(length, MaxShown + 1)];
        return task.CopyIn(address, bytes) ? Quote(bytes, MaxShown) : Pointer(address);
    }

    private static string Quote(byte[] bytes, int max)
    {
        var sb = new StringBuilder("\"");
        var n = Math.Min(bytes.Length, max);
        for (var i = 0; i < n; i++)
        {
            var b = bytes[i];
            sb.Append(b switch
            {
                (byte)'\n' => "\\n",
                (byte)'\t' => "\\t",
                (byte)'\r' => "\\r",
                (byte)'"' => "\\\"",
                (byte)'\\' => "\\\\",
                >= 0x20 and < 0x7F => ((char)b).ToString(),
                _ => $"\\{Convert.ToString(b, 8)}",
            });
        }

        sb.Append('"');
        if (bytes.Length > max)
        {
            sb.Append("...");
        }

        return sb.ToString();
    }
}
