using System.Globalization;

namespace LlCuda.Tokenizers;

/// <summary>
/// The Unicode classes a BPE pre-tokenizer asks about, with the bit values of llama.cpp's
/// unicode_cpt_flags so the splitters read like llama.cpp's. Exactly one category bit is set for
/// a code point inside the text; <see cref="None"/> (no bit) stands for "past the end of the
/// piece being split", which llama.cpp's fast paths test for.
/// </summary>
[Flags]
internal enum CodepointFlags : ushort
{
    None = 0,
    /// <summary>Unassigned in Unicode 15.1 (Cn).</summary>
    Undefined = 0x0001,
    /// <summary>\p{N}</summary>
    Number = 0x0002,
    /// <summary>\p{L}</summary>
    Letter = 0x0004,
    /// <summary>\p{Z}</summary>
    Separator = 0x0008,
    /// <summary>\p{M}</summary>
    AccentMark = 0x0010,
    /// <summary>\p{P}</summary>
    Punctuation = 0x0020,
    /// <summary>\p{S}</summary>
    Symbol = 0x0040,
    /// <summary>\p{C} other than Cn: control, format, private use, surrogate.</summary>
    Control = 0x0080,
    /// <summary>Unicode White_Space (the 25 code points Python's regex module calls \s).</summary>
    Whitespace = 0x0100,
}

/// <summary>
/// Code point classes as llama.cpp sees them. llama.cpp ships tables generated from Unicode 15.1
/// (src/unicode-data.cpp); .NET 10's CharUnicodeInfo is Unicode 16.0. The two agree on every
/// code point except the 5,185 that Unicode 16.0 newly assigned, which llama.cpp treats as
/// unassigned: <see cref="AssignedAfterUnicode15_1"/> lists them, found by comparing .NET's
/// categories with the flag table inside the libllama.so that LLamaSharp 0.30.0 ships (all
/// other categories and the whitespace set matched exactly).
/// </summary>
internal static class UnicodeClasses
{
    // [0x10000] flags of every BMP code point: a 128 KiB table keeps the splitters' inner loops
    // free of category lookups; astral code points (emoji, rare scripts) take the slow path.
    static readonly CodepointFlags[] Bmp = BuildBmp();

    /// <summary>Ranges (first, last) assigned in Unicode 16.0; "undefined" to llama.cpp.</summary>
    internal static ReadOnlySpan<int> AssignedAfterUnicode15_1 =>
    [
        0x897, 0x897, 0x1B4E, 0x1B4F, 0x1B7F, 0x1B7F, 0x1C89, 0x1C8A, 0x2427, 0x2429, 0x31E4, 0x31E5,
        0xA7CB, 0xA7CD, 0xA7DA, 0xA7DC, 0x105C0, 0x105F3, 0x10D40, 0x10D65, 0x10D69, 0x10D85,
        0x10D8E, 0x10D8F, 0x10EC2, 0x10EC4, 0x10EFC, 0x10EFC, 0x11380, 0x11389, 0x1138B, 0x1138B,
        0x1138E, 0x1138E, 0x11390, 0x113B5, 0x113B7, 0x113C0, 0x113C2, 0x113C2, 0x113C5, 0x113C5,
        0x113C7, 0x113CA, 0x113CC, 0x113D5, 0x113D7, 0x113D8, 0x113E1, 0x113E2, 0x116D0, 0x116E3,
        0x11BC0, 0x11BE1, 0x11BF0, 0x11BF9, 0x11F5A, 0x11F5A, 0x13460, 0x143FA, 0x16100, 0x16139,
        0x16D40, 0x16D79, 0x18CFF, 0x18CFF, 0x1CC00, 0x1CCF9, 0x1CD00, 0x1CEB3, 0x1E5D0, 0x1E5FA,
        0x1E5FF, 0x1E5FF, 0x1F8B2, 0x1F8BB, 0x1F8C0, 0x1F8C1, 0x1FA89, 0x1FA89, 0x1FA8F, 0x1FA8F,
        0x1FABE, 0x1FABE, 0x1FAC6, 0x1FAC6, 0x1FADC, 0x1FADC, 0x1FADF, 0x1FADF, 0x1FAE9, 0x1FAE9,
        0x1FBCB, 0x1FBEF,
    ];

    /// <summary>The flags of code point <paramref name="cp"/> (0 ≤ cp ≤ 0x10FFFF).</summary>
    public static CodepointFlags Of(int cp) => (uint)cp < (uint)Bmp.Length ? Bmp[cp] : OfAstral(cp);

    static CodepointFlags OfAstral(int cp)
    {
        if ((uint)cp > 0x10FFFF) return CodepointFlags.Undefined;
        return IsAssignedAfterUnicode15_1(cp) ? CodepointFlags.Undefined : FromCategory(CharUnicodeInfo.GetUnicodeCategory(cp));
    }

    static bool IsAssignedAfterUnicode15_1(int cp)
    {
        var ranges = AssignedAfterUnicode15_1;
        for (int i = 0; i < ranges.Length; i += 2)
            if (cp >= ranges[i] && cp <= ranges[i + 1]) return true;
        return false;
    }

    static CodepointFlags[] BuildBmp()
    {
        var table = new CodepointFlags[0x10000];
        for (int cp = 0; cp < table.Length; cp++)
        {
            var flags = IsAssignedAfterUnicode15_1(cp) ? CodepointFlags.Undefined : FromCategory(CharUnicodeInfo.GetUnicodeCategory(cp));
            // .NET's char.IsWhiteSpace is exactly Unicode White_Space, the set llama.cpp uses.
            if (char.IsWhiteSpace((char)cp)) flags |= CodepointFlags.Whitespace;
            table[cp] = flags;
        }
        return table;
    }

    static CodepointFlags FromCategory(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CodepointFlags.Letter,
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => CodepointFlags.AccentMark,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CodepointFlags.Number,
        UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => CodepointFlags.Separator,
        UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => CodepointFlags.Punctuation,
        UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
            or UnicodeCategory.OtherSymbol => CodepointFlags.Symbol,
        UnicodeCategory.OtherNotAssigned => CodepointFlags.Undefined,
        _ => CodepointFlags.Control,
    };

    /// <summary>
    /// Decodes UTF-16 into code points the way llama.cpp sees the UTF-8 that LLamaSharp (and any
    /// UTF-8 encoder) makes of it: a lone surrogate becomes U+FFFD.
    /// </summary>
    /// <param name="text">The text, n UTF-16 units.</param>
    /// <param name="codepoints">[≥ n] receives the code points; returns their count m.</param>
    /// <param name="charStarts">[≥ n + 1] receives, per code point, its UTF-16 offset, plus n at [m].</param>
    public static int Decode(ReadOnlySpan<char> text, Span<int> codepoints, Span<int> charStarts)
    {
        int m = 0;
        for (int i = 0; i < text.Length; m++)
        {
            charStarts[m] = i;
            char c = text[i];
            if (!char.IsSurrogate(c)) { codepoints[m] = c; i++; }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                codepoints[m] = char.ConvertToUtf32(c, text[i + 1]);
                i += 2;
            }
            else { codepoints[m] = 0xFFFD; i++; }
        }
        charStarts[m] = text.Length;
        return m;
    }
}
