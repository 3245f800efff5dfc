using System.Text;

namespace UserModeOS.Conformance.Harness;

/// <summary>Small text helpers for readable assertion messages.</summary>
public static class Text
{
    public static string Clip(string s, int maxChars) =>
        s.Length <= maxChars ? s : s[..maxChars] + $"... [{s.Length - maxChars} more chars]";

    /// <summary>A C-like escaped rendering of a line (control characters and non-ASCII visible).</summary>
    public static string Escape(string s, int maxChars = 160)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s.Length > maxChars ? s[..maxChars] : s)
        {
            switch (c)
            {
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                default:
                    if (c == '\ufffd')
                    {
                        sb.Append('\u00bf'); // an undecodable byte, kept short
                    }
                    else if (c < 0x20 || c > 0x7e)
                    {
                        sb.Append($"\\u{(int)c:x4}");
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
        if (s.Length > maxChars)
        {
            sb.Append("...");
        }

        return sb.ToString();
    }

    /// <summary>
    /// Describes where two byte outputs differ: lengths, the first differing line
    /// (1-based) with both versions, or null when equal.
    /// </summary>
    public static string? Diff(string what, byte[] expected, byte[] actual)
    {
        if (expected.AsSpan().SequenceEqual(actual))
        {
            return null;
        }

        var e = Encoding.UTF8.GetString(expected).Split('\n');
        var a = Encoding.UTF8.GetString(actual).Split('\n');
        var sb = new StringBuilder();
        sb.AppendLine($"{what} differs: native {expected.Length} bytes / {e.Length - 1} newlines, umos {actual.Length} bytes / {a.Length - 1} newlines");
        var n = Math.Min(e.Length, a.Length);
        var i = 0;
        while (i < n && e[i] == a[i])
        {
            i++;
        }

        if (i < n)
        {
            sb.AppendLine($"  first difference at line {i + 1}:");
            sb.AppendLine($"    native: {Escape(e[i])}");
            sb.AppendLine($"    umos:   {Escape(a[i])}");
        }
        else if (e.Length > a.Length)
        {
            sb.AppendLine($"  umos output ends early; native continues at line {i + 1}: {Escape(e[i])}");
        }
        else
        {
            sb.AppendLine($"  umos output has extra lines from line {i + 1}: {Escape(a[i])}");
        }

        return sb.ToString();
    }
}
