namespace LlCuda.Tokenizers;

/// <summary>
/// The literal character classes of DeepSeek's pre-tokenizer regexes (from its tokenizer.json,
/// as llama.cpp embeds them), as code point ranges. llama.cpp matches these patterns with
/// std::wregex after replacing every non-ASCII whitespace code point by '\v', so a whitespace
/// code point never matches a literal class here even when a range spans it (U+3000 in "　-。").
/// Several code points of the original pattern are canonical singletons (U+1F7D, U+1FBE,
/// U+1FD3, U+1FDB, U+2126, U+212A) that NFC would rewrite; they are kept as in the pattern.
/// </summary>
internal static class DeepSeekClasses
{
    // A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃
    // (first, last) pairs, sorted: the cased letters (Lu, Ll, Lt) of deepseek-llm's word pattern.
    static ReadOnlySpan<int> LlmLetters =>
    [
        0x41, 0x5A, 0x61, 0x7A, 0xB5, 0xB5, 0xC0, 0xD6, 0xD8, 0xF6, 0xF8, 0x1BA, 0x1BC, 0x1BF, 0x1C4, 0x293,
        0x295, 0x2AF, 0x370, 0x373, 0x376, 0x377, 0x37B, 0x37D, 0x37F, 0x37F, 0x386, 0x386, 0x388, 0x38A,
        0x38C, 0x38C, 0x38E, 0x3A1, 0x3A3, 0x3F5, 0x3F7, 0x481, 0x48A, 0x52F, 0x531, 0x556, 0x10A0, 0x10C5,
        0x13A0, 0x13F5, 0x13F8, 0x13FD, 0x1C90, 0x1CBA, 0x1CBD, 0x1CBF, 0x1D00, 0x1D2B, 0x1D6B, 0x1D77,
        0x1D79, 0x1D9A, 0x1E00, 0x1F15, 0x1F18, 0x1F1D, 0x1F20, 0x1F45, 0x1F48, 0x1F4D, 0x1F50, 0x1F57,
        0x1F59, 0x1F59, 0x1F5B, 0x1F5B, 0x1F5D, 0x1F5D, 0x1F5F, 0x1F7D, 0x1F80, 0x1FB4, 0x1FB6, 0x1FBC,
        0x1FBE, 0x1FBE, 0x1FC2, 0x1FC4, 0x1FC6, 0x1FCC, 0x1FD0, 0x1FD3, 0x1FD6, 0x1FDB, 0x1FE0, 0x1FEC,
        0x1FF2, 0x1FF4, 0x1FF6, 0x1FFC, 0x2102, 0x2102, 0x2107, 0x2107, 0x210A, 0x2113, 0x2115, 0x2115,
        0x2119, 0x211D, 0x2124, 0x2124, 0x2126, 0x2126, 0x2128, 0x2128, 0x212A, 0x212D, 0x212F, 0x2134,
        0x2139, 0x2139, 0x213C, 0x213F, 0x2145, 0x2149, 0x214E, 0x214E, 0x2183, 0x2184, 0x2C00, 0x2C7B,
        0x2C7E, 0x2CE4, 0x2CEB, 0x2CEE, 0x2CF2, 0x2CF3, 0xA640, 0xA66D, 0xA680, 0xA69B, 0xA722, 0xA76F,
        0xA771, 0xA787, 0xA78B, 0xA78E, 0xAB70, 0xABBF, 0xFB00, 0xFB06, 0xFB13, 0xFB17, 0xFF21, 0xFF3A,
        0xFF41, 0xFF5A, 0x10400, 0x1044F, 0x104B0, 0x104D3, 0x104D8, 0x104FB, 0x10C80, 0x10CB2, 0x10CC0,
        0x10CF2, 0x118A0, 0x118DF, 0x1E900, 0x1E943,
    ];

    // !-/:-~！-／：-～‘-‟　-。 (note ':'..'~' takes in '@', '[' .. '`', '{' .. '~' and the ASCII letters).
    static ReadOnlySpan<int> LlmPunctuation =>
        [0x21, 0x2F, 0x3A, 0x7E, 0x2018, 0x201F, 0x3000, 0x3002, 0xFF01, 0xFF0F, 0xFF1A, 0xFF5E];

    // 一-龥ࠀ-一가-퟿: CJK ideographs, everything from Samaritan up to them, Hangul syllables.
    static ReadOnlySpan<int> Cjk => [0x800, 0x9FA5, 0xAC00, 0xD7FF];

    /// <summary>deepseek-llm's <c>[A-Za-zµÀ-Ö…]</c>.</summary>
    public static bool IsLlmLetter(int cp, CodepointFlags f) => (f & CodepointFlags.Whitespace) == 0 && In(LlmLetters, cp);

    /// <summary>deepseek-llm's <c>[!-/:-~！-／：-～‘-‟　-。]</c>.</summary>
    public static bool IsLlmPunctuation(int cp, CodepointFlags f) => (f & CodepointFlags.Whitespace) == 0 && In(LlmPunctuation, cp);

    /// <summary>deepseek's <c>[一-龥ࠀ-一가-퟿]</c>.</summary>
    public static bool IsCjk(int cp, CodepointFlags f) => (f & CodepointFlags.Whitespace) == 0 && In(Cjk, cp);

    static bool In(ReadOnlySpan<int> ranges, int cp)
    {
        // Binary search over the range starts: the tables are sorted and disjoint.
        int lo = 0, hi = ranges.Length / 2 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cp < ranges[2 * mid]) hi = mid - 1;
            else if (cp > ranges[2 * mid + 1]) lo = mid + 1;
            else return true;
        }
        return false;
    }
}
