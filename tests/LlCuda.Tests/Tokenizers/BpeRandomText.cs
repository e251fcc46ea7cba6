using System.Text;

namespace LlCuda.Tests.Tokenizers;

/// <summary>
/// Random text built to exercise every branch of the BPE pre-tokenizers: words, digit runs,
/// contractions in both cases, whitespace runs of every kind, Latin-1, Greek and other scripts,
/// CJK, emoji (astral, ZWJ sequences, variation selectors), combining marks, punctuation and
/// symbols, code points llama.cpp's Unicode 15.1 tables do not know, lone surrogates and long
/// words.
/// </summary>
internal static class BpeRandomText
{
    static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M", "'LL", "'D", "'x", "'", "''"];
    static readonly string[] Spaces = [" ", " ", " ", "  ", "\t", "\n", "\r\n", "\n\n", "\r", "\v", "\f", "\u00A0", "\u3000", "\u2028", "\u0085", "\u2003", "\u1680", "\u200B", " \n ", "\t\t", "   "];
    static readonly string[] Punctuation = [".", ",", "!", "?", ":", ";", "-", "--", "...", "(", ")", "[", "]", "{", "}", "\"", "/", "\\", "@", "#", "$", "%", "^", "&", "*", "_", "+", "=", "<", ">", "|", "~", "`",
        "…", "—", "¿", "«", "»", "「", "」", "！", "，", "。", "、", "‘", "’", "“", "”", "§", "¶", "©", "®", "°", "±", "€", "£", "¥", "→", "∑", "√", "♥", "★", "＄", "～"];
    static readonly string[] Emoji = ["🦙", "🚀", "😀", "😶\u200d🌫\ufe0f", "👍🏽", "🇩🇪", "❤\ufe0f", "✅", "👨\u200d👩\u200d👧", "🪉", "🫟", "🧑\u200d💻"];
    // Code point ranges (first, last) to draw single characters from.
    static readonly (int First, int Last)[] Scripts =
    [
        (0xC0, 0xFF), (0xA1, 0xBF), (0x100, 0x17F), (0x180, 0x24F), (0x370, 0x3FF), (0x1F00, 0x1FFF), (0x400, 0x4FF),
        (0x530, 0x58F), (0x5D0, 0x5EA), (0x600, 0x6FF), (0x900, 0x97F), (0xE00, 0xE5B), (0x1780, 0x17FF), (0x10A0, 0x10FF),
        (0x13A0, 0x13FF), (0x2100, 0x214F), (0x2150, 0x218B), (0x2460, 0x24FF), (0x3040, 0x30FF), (0x3100, 0x312F),
        (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFF01, 0xFF5E), (0xFB00, 0xFB4F), (0x0800, 0x083F), (0xA640, 0xA69F),
        (0x0660, 0x0669), (0x06F0, 0x06F9), (0x0966, 0x096F), (0xFF10, 0xFF19), (0x2070, 0x209F),
        (0x10400, 0x1044F), (0x1D400, 0x1D7FF), (0x20000, 0x2A6DF), (0x1E900, 0x1E95F), (0x118A0, 0x118FF), (0x1F300, 0x1FAFF),
        // assigned only in Unicode 16.0: unknown to llama.cpp's tables
        (0x10D40, 0x10D8F), (0x1CC00, 0x1CCF9), (0x13460, 0x13470), (0x1FBCB, 0x1FBEF), (0xA7CB, 0xA7CD),
        // unassigned, private use, noncharacters
        (0x0378, 0x0379), (0xE000, 0xE010), (0xFFF0, 0xFFFF), (0x0E0001, 0x0E007F),
        // combining marks, controls
        (0x300, 0x36F), (0x1AB0, 0x1ACE), (0x1, 0x1F), (0x7F, 0x9F),
    ];

    /// <summary>A random text of 1..<paramref name="maxParts"/> parts.</summary>
    public static string Next(Random rng, int maxParts = 24)
    {
        var sb = new StringBuilder();
        int parts = rng.Next(1, maxParts + 1);
        for (int i = 0; i < parts; i++) AppendPart(rng, sb);
        return sb.ToString();
    }

    static void AppendPart(Random rng, StringBuilder sb)
    {
        switch (rng.Next(13))
        {
            case 12:
                // A long word (40..200 code points): BpeModel merges these through a heap.
                int length = rng.Next(40, 201);
                string alphabet = rng.Next(5) switch { 0 => "abcdefghijklmnopqrstuvwxyz", 1 => " ", 2 => "0123456789", 3 => "=-", _ => "aé€😀" };
                for (int i = 0; i < length; i++)
                {
                    int at = rng.Next(alphabet.Length);
                    if (char.IsHighSurrogate(alphabet[at])) sb.Append(alphabet, at, 2);
                    else if (char.IsLowSurrogate(alphabet[at])) sb.Append(alphabet, at - 1, 2);
                    else sb.Append(alphabet[at]);
                }
                break;
            case 0:
            case 1:
                int n = rng.Next(1, 10);
                bool upper = rng.Next(4) == 0;
                for (int i = 0; i < n; i++) sb.Append((char)((upper || rng.Next(8) == 0 ? 'A' : 'a') + rng.Next(26)));
                break;
            case 2:
                int digits = rng.Next(1, 13);
                for (int i = 0; i < digits; i++) sb.Append((char)('0' + rng.Next(10)));
                break;
            case 3: sb.Append(Contractions[rng.Next(Contractions.Length)]); break;
            case 4:
            case 5:
                int runs = rng.Next(1, 4);
                for (int i = 0; i < runs; i++) sb.Append(Spaces[rng.Next(Spaces.Length)]);
                break;
            case 6: sb.Append(Punctuation[rng.Next(Punctuation.Length)]); break;
            case 7: sb.Append(Emoji[rng.Next(Emoji.Length)]); break;
            case 8:
            case 9:
            case 10:
                var (first, last) = Scripts[rng.Next(Scripts.Length)];
                int count = rng.Next(1, 5);
                for (int i = 0; i < count; i++) sb.Append(char.ConvertFromUtf32(first + rng.Next(last - first + 1)));
                break;
            default:
                // A lone surrogate: UTF-8 encoders (and so llama.cpp's input) turn it into U+FFFD.
                if (rng.Next(6) == 0) sb.Append(rng.Next(2) == 0 ? '\uD83D' : '\uDE00');
                else sb.Append(' ').Append((char)('a' + rng.Next(26))).Append((char)('a' + rng.Next(26)));
                break;
        }
    }
}
