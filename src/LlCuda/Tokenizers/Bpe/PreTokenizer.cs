using System.Collections.Frozen;

namespace LlCuda.Tokenizers;

/// <summary>
/// Splits text into the words that BPE merges within, exactly as llama.cpp does for a given
/// tokenizer.ggml.pre (llm_tokenizer_bpe + unicode_regex_split in llama.cpp's src/).
///
/// llama.cpp applies a list of regexes in turn; each one cuts every piece left by the previous
/// one into its matches and the gaps between them. Two patterns (GPT-2's and Llama 3's) run as
/// hand-written scanners; the others run through std::regex on a "collapsed" text in which
/// every non-ASCII code point is replaced by one byte naming its category.
///
/// Why hand-written passes here rather than .NET Regex: .NET's regex works on UTF-16 code
/// units (an emoji is two "characters" to \p{...} and to quantifiers), its \p{L} follows .NET's
/// Unicode 16.0 tables where llama.cpp's are 15.1, and ECMAScript-vs-.NET details ($ before a
/// final '\n', \s) differ. Every pattern llama.cpp uses for the supported pre-tokenizers is a
/// short alternation of "optional prefix + run of a class"; written as scanners over code points
/// with llama.cpp's own classes (<see cref="UnicodeClasses"/>) they are exact by construction
/// and allocation-free. Each pass's comment gives the pattern
/// it implements. The "qwen2" pattern, which llama.cpp runs through std::regex, is the Llama 3
/// scanner with single digits: the regexes differ only in \p{N} versus \p{N}{1,3}, and the
/// scanner follows the regex's alternation order.
/// </summary>
internal sealed class PreTokenizer
{
    readonly SplitPass[] _passes;

    PreTokenizer(string name, bool ignoreMerges, params SplitPass[] passes)
    {
        Name = name;
        IgnoreMerges = ignoreMerges;
        _passes = passes;
    }

    /// <summary>The tokenizer.ggml.pre value this splitter was made for.</summary>
    public string Name { get; }

    /// <summary>llama.cpp's ignore_merges: a whole word found in the vocabulary is one token (Llama 3).</summary>
    public bool IgnoreMerges { get; }

    /// <summary>Every tokenizer.ggml.pre value <see cref="For"/> accepts.</summary>
    public static IReadOnlyCollection<string> SupportedNames => Families.Keys;

    // tokenizer.ggml.pre -> pre-tokenizer, grouped as in llama.cpp's llama_vocab::impl::load and
    // llm_tokenizer_bpe's constructor (names that share a regex list share a family).
    static readonly FrozenDictionary<string, Func<string, PreTokenizer>> Families = BuildFamilies();

    static FrozenDictionary<string, Func<string, PreTokenizer>> BuildFamilies()
    {
        var map = new Dictionary<string, Func<string, PreTokenizer>>(StringComparer.Ordinal);
        void Add(Func<string, PreTokenizer> make, params string[] names)
        {
            foreach (var n in names) map.Add(n, make);
        }

        // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
        Add(n => new(n, false, new Gpt2Pass()),
            "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
            "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4", "mpt", "olmo", "jais", "trillion",
            "granite-docling");
        // \p{N} then the GPT-2 pattern: digits always stand alone.
        Add(n => new(n, false, new SinglePass(IsNumber), new Gpt2Pass()),
            "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2");
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
        Add(n => new(n, true, new Llama3Pass(3)),
            "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano");
        Add(n => new(n, false, new Llama3Pass(3)), "dbrx", "smaug-bpe", "glm4", "chatglm-bpe");
        // The Llama 3 pattern with \p{N} for \p{N}{1,3}.
        Add(n => new(n, false, new Llama3Pass(1)),
            "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open", "grok-2");
        // [\p{P}\$\+<=>\^~\|]+, GPT-2, \p{N}+, [0-9][0-9][0-9]
        Add(n => new(n, false, new RunPass(null, IsDefaultPunctuation), new Gpt2Pass(), new RunPass(null, IsNumber),
            new DigitTriplesPass()), "default");
        // [\p{P}\$\+<=>\^~\|`]+, GPT-2, [0-9][0-9][0-9]
        Add(n => new(n, false, new RunPass(null, IsFalconPunctuation), new Gpt2Pass(), new DigitTriplesPass()), "falcon");
        // [\r\n], \s?[cased letters]+, \s?[!-/:-~！-／：-～‘-‟　-。]+, \s+$, [一-龥ࠀ-一가-퟿]+, \p{N}+
        Add(n => new(n, false, new SinglePass(IsCrLf), new RunPass(IsWhitespace, DeepSeekClasses.IsLlmLetter),
            new RunPass(IsWhitespace, DeepSeekClasses.IsLlmPunctuation), new TrailingWhitespacePass(),
            new RunPass(null, DeepSeekClasses.IsCjk), new RunPass(null, IsNumber)), "deepseek-llm");
        // [\r\n], \s?\p{L}+, \s?\p{P}+, [一-龥ࠀ-一가-퟿]+, \p{N}
        Add(n => new(n, false, new SinglePass(IsCrLf), new RunPass(IsWhitespace, IsLetter),
            new RunPass(IsWhitespace, IsPunctuation), new RunPass(null, DeepSeekClasses.IsCjk),
            new SinglePass(IsNumber)), "deepseek-coder");
        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The pre-tokenizer llama.cpp uses for tokenizer.ggml.pre = <paramref name="pre"/>.</summary>
    /// <exception cref="NotSupportedException">llcuda does not implement that pre-tokenizer.</exception>
    public static PreTokenizer For(string pre)
    {
        ArgumentNullException.ThrowIfNull(pre);
        if (Families.TryGetValue(pre.Length == 0 ? "default" : pre, out var make)) return make(pre.Length == 0 ? "default" : pre);
        throw new NotSupportedException(
            $"BPE pre-tokenizer '{pre}' (tokenizer.ggml.pre) is not supported; supported: {string.Join(", ", Families.Keys.Order(StringComparer.Ordinal))}. " +
            "Tokenizing with another pre-tokenizer would give ids the model was not trained on; use a model whose GGUF names a supported one, or add it to PreTokenizer.");
    }

    /// <summary>
    /// Splits code points [0, n) into words: fills <paramref name="wordEnds"/> (cleared first)
    /// with each word's end index (exclusive), in order. Words are never empty and cover the text.
    /// </summary>
    /// <param name="codepoints">[n] the text.</param>
    /// <param name="flags">[n] <see cref="UnicodeClasses.Of"/> of each code point.</param>
    /// <param name="scratch">A reusable list the passes may use.</param>
    public void Split(ReadOnlySpan<int> codepoints, ReadOnlySpan<CodepointFlags> flags, List<int> wordEnds, List<int> scratch)
    {
        int n = codepoints.Length;
        wordEnds.Clear();
        if (n == 0) return;
        // Each pass turns the piece list in `current` into a finer one in `next`.
        var current = scratch;
        var next = wordEnds;
        if (_passes.Length % 2 == 0) (current, next) = (next, current);
        current.Clear();
        current.Add(n);
        foreach (var pass in _passes)
        {
            next.Clear();
            int start = 0;
            foreach (int end in current)
            {
                pass.Split(codepoints, flags, start, end, next);
                start = end;
            }
            (current, next) = (next, current);
        }
        // The alternation above leaves the final list in wordEnds.
    }

    static bool IsWhitespace(int cp, CodepointFlags f) => (f & CodepointFlags.Whitespace) != 0;
    static bool IsLetter(int cp, CodepointFlags f) => (f & CodepointFlags.Letter) != 0;
    static bool IsNumber(int cp, CodepointFlags f) => (f & CodepointFlags.Number) != 0;
    static bool IsPunctuation(int cp, CodepointFlags f) => (f & CodepointFlags.Punctuation) != 0;
    static bool IsCrLf(int cp, CodepointFlags f) => cp is '\r' or '\n';
    static bool IsDefaultPunctuation(int cp, CodepointFlags f) =>
        (f & CodepointFlags.Punctuation) != 0 || cp is '$' or '+' or '<' or '=' or '>' or '^' or '~' or '|';
    static bool IsFalconPunctuation(int cp, CodepointFlags f) => IsDefaultPunctuation(cp, f) || cp == '`';
}
