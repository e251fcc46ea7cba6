using System.Text;

namespace LlCuda.Tests.Tokenizers;

/// <summary>
/// Random strings that stress a tokenizer: ASCII words, runs of spaces, newlines and tabs,
/// Latin-1, CJK, emoji (with skin tones and ZWJ sequences), combining marks, digits, punctuation,
/// SentencePiece's own "▁", long runs without spaces, and special-token text ("&lt;s&gt;", "&lt;|end|&gt;"...). Fixed seeds give fixed strings.
/// </summary>
public static class TokenizerRandomText
{
    static readonly string[] Pieces =
    [
        "the", "Hello", "world", "tokenizer", "llama", "cat", "a", "I", "don't", "it's", "we'll", "you're",
        " ", "  ", "   ", "\n", "\n\n", "\t", " \n", "\r\n", "\u00A0", "\u3000",
        "0", "7", "42", "2024", "3.14159", "1,000,000",
        ".", ",", "!", "?", "'", "\"", "(", ")", "-", "--", "...", "#", "@", "$", "%", "&", "*", "/", "\\", "[", "]", "{", "}", "|", "~", "`", "^", "_", "=", "+",
        "é", "ñ", "ü", "ß", "Ø", "café", "naïve", "Straße", "¿Qué?", "±", "©", "µ", "ÿ",
        "中", "文", "中文", "日本語", "한국어", "ひらがな", "カタカナ", "你好，世界。", "龍",
        "😀", "👍", "👍🏽", "👨‍👩‍👧", "🇫🇷", "🦙", "❤️", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𠀋",
        "e\u0301", "a\u0308", "\u0301", "n\u0303", "\u200B", "\u200D", "\uFEFF", "\uFFFD", "\u2581", "\u2581\u2581",
        "Ω", "π", "Привет", "мир", "Ελληνικά", "עברית", "العربية", "हिन्दी", "ไทย",
        "<s>", "</s>", "<unk>", "<|end|>", "<|user|>", "<|assistant|>", "<|system|>", "<|endoftext|>",
        "<|placeholder1|>", "[PAD32011]", "<0x0A>", "<", ">", "<|", "|>", "</s", "s>",
        "\u0000", "\u0001", "\u007F", "\u0085", "\uE000", "\U0010FFFD",
        // Long runs without spaces (the SPM merge switches from a scan to a heap past 32 symbols).
        "supercalifragilisticexpialidociousantidisestablishmentarianism", "https://example.com/a/b?query=1&x=2#frag",
        "----------------------------------------", "0123456789012345678901234567890123456789",
        "这是一个没有空格的很长的中文句子用来测试长的片段合并是否正确无误", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];

    /// <summary><paramref name="count"/> strings of 0..<paramref name="maxPieces"/> pieces each, from <paramref name="seed"/>.</summary>
    public static IReadOnlyList<string> Strings(int seed, int count, int maxPieces = 12)
    {
        var random = new Random(seed);
        var result = new List<string>(count);
        var sb = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            sb.Clear();
            int pieces = random.Next(0, maxPieces + 1);
            for (int p = 0; p < pieces; p++)
            {
                // One piece in four is a random code point from a random block, for what the list misses.
                if (random.Next(4) == 0)
                    sb.Append(RandomCodePoint(random));
                else
                    sb.Append(Pieces[random.Next(Pieces.Length)]);
            }
            result.Add(sb.ToString());
        }
        return result;
    }

    static string RandomCodePoint(Random random)
    {
        int cp = random.Next(6) switch
        {
            0 => random.Next(0x20, 0x7F),
            1 => random.Next(0xA0, 0x250),
            2 => random.Next(0x300, 0x370),   // combining marks
            3 => random.Next(0x4E00, 0x9FFF), // CJK
            4 => random.Next(0x1F300, 0x1FAFF), // emoji
            _ => random.Next(0x370, 0x2FFF),
        };
        return char.ConvertFromUtf32(cp);
    }
}
