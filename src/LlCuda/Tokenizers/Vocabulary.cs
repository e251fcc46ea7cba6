using LlCuda.Gguf;

namespace LlCuda.Tokenizers;

/// <summary>
/// A model's vocabulary as read from GGUF tokenizer.ggml.* metadata, with the defaults and
/// load-time adjustments llama.cpp applies (llama_vocab::impl::load), so that tokenization and
/// special-token handling agree with llama.cpp token for token.
/// </summary>
public sealed class Vocabulary
{
    readonly Dictionary<string, int> _ids;
    readonly TokenAttributes[] _attributes;
    readonly HashSet<int> _endOfGeneration = [];

    /// <summary>Token id meaning "none" (llama.cpp's LLAMA_TOKEN_NULL).</summary>
    public const int None = -1;

    /// <summary>Builds a vocabulary from its parts; <paramref name="options"/> carries the optional keys.</summary>
    public Vocabulary(string model, string pre, string[] tokens, float[]? scores, TokenType[]? types, string[]? merges,
        VocabularyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        options ??= new VocabularyOptions();
        Model = model;
        Pre = string.IsNullOrEmpty(pre) ? "default" : pre;
        if (scores is not null && scores.Length < tokens.Length)
            throw new ArgumentException($"tokenizer.ggml.scores has {scores.Length} entries for {tokens.Length} tokens (the file is inconsistent; re-convert the model)", nameof(scores));
        if (types is not null && types.Length < tokens.Length)
            throw new ArgumentException($"tokenizer.ggml.token_type has {types.Length} entries for {tokens.Length} tokens (the file is inconsistent; re-convert the model)", nameof(types));

        Tokens = tokens;
        Scores = scores ?? new float[tokens.Length];
        Types = types ?? Enumerable.Repeat(TokenType.Normal, tokens.Length).ToArray();
        Merges = merges ?? [];

        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++)
        {
            // llama.cpp renames empty tokens so every id keeps a distinct text.
            string text = tokens[i].Length == 0 ? $"[EMPTY_{i}]" : tokens[i];
            if (!_ids.TryAdd(text, i))
                throw new ArgumentException($"duplicate token in vocabulary: '{text}' has ids {_ids[text]} and {i} (the file is corrupt; re-convert the model)", nameof(tokens));
        }

        _attributes = new TokenAttributes[tokens.Length];
        for (int i = 0; i < tokens.Length; i++) _attributes[i] = AttributesOf(Types[i]);

        bool isSpm = model == "llama";
        bool isBpe = model == "gpt2";
        if (!isSpm && !isBpe)
            throw new NotSupportedException($"tokenizer model '{model}' is not supported (supported: 'llama' (SentencePiece), 'gpt2' (byte-level BPE))");
        if (isBpe && merges is null)
            throw new ArgumentException("a BPE vocabulary needs tokenizer.ggml.merges (the file lacks them; re-convert the model)", nameof(merges));

        // llama.cpp's defaults per vocabulary kind, then per pre-tokenizer, then from metadata.
        int bos = isSpm ? 1 : 11, eos = isSpm ? 2 : 11, unk = isSpm ? 0 : None;
        bool addBos = isSpm, addSpacePrefix = isSpm;
        // llama.cpp turns add_bos on for the Llama-3 family of pre-tokenizers, tekken and chameleon.
        if (isBpe && Pre is "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0"
                or "lfm2" or "jina-v5-nano" or "tekken" or "chameleon")
            addBos = true;

        Bos = Pick(options.Bos, bos);
        Eos = Pick(options.Eos, eos);
        Unk = Pick(options.Unk, unk);
        Pad = Pick(options.Pad, None);
        Sep = Pick(options.Sep, None);
        Eot = Pick(options.Eot, None);
        Eom = Pick(options.Eom, None);
        AddBos = options.AddBos ?? addBos;
        AddEos = options.AddEos ?? false;
        AddSpacePrefix = options.AddSpacePrefix ?? addSpacePrefix;

        DetectSpecialTokens(options);
        ApplyModelStripRules(options.ModelName ?? "");
    }

    /// <summary>Reads the vocabulary from a GGUF file's tokenizer.ggml.* keys.</summary>
    public static Vocabulary FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var m = file.Metadata;
        string model = m.GetStringOrNull("tokenizer.ggml.model")
            ?? throw new GgufFormatException($"{file.Source}: metadata key 'tokenizer.ggml.model' is missing: the file has no vocabulary (use a model file that includes its tokenizer)");
        var tokens = m.GetArrayOrNull<string>("tokenizer.ggml.tokens")
            ?? throw new GgufFormatException($"{file.Source}: metadata key 'tokenizer.ggml.tokens' is missing: the file has no vocabulary");
        float[]? scores = null;
        if (m.TryGetValue("tokenizer.ggml.scores", out var s))
            scores = s.Value is int[] ints ? ints.Select(x => (float)x).ToArray() : m.GetArrayOrNull<float>("tokenizer.ggml.scores");
        var types = m.GetArrayOrNull<int>("tokenizer.ggml.token_type")?.Select(t => Enum.IsDefined((TokenType)t) ? (TokenType)t : TokenType.Undefined).ToArray();
        var options = new VocabularyOptions
        {
            Bos = Id(file, "tokenizer.ggml.bos_token_id", tokens.Length),
            Eos = Id(file, "tokenizer.ggml.eos_token_id", tokens.Length),
            Unk = Id(file, "tokenizer.ggml.unknown_token_id", tokens.Length),
            Pad = Id(file, "tokenizer.ggml.padding_token_id", tokens.Length),
            Sep = Id(file, "tokenizer.ggml.seperator_token_id", tokens.Length),
            Eot = Id(file, "tokenizer.ggml.eot_token_id", tokens.Length),
            Eom = Id(file, "tokenizer.ggml.eom_token_id", tokens.Length),
            FimPrefix = Id(file, "tokenizer.ggml.fim_pre_token_id", tokens.Length) ?? Id(file, "tokenizer.ggml.prefix_token_id", tokens.Length),
            FimSuffix = Id(file, "tokenizer.ggml.fim_suf_token_id", tokens.Length) ?? Id(file, "tokenizer.ggml.suffix_token_id", tokens.Length),
            FimMiddle = Id(file, "tokenizer.ggml.fim_mid_token_id", tokens.Length) ?? Id(file, "tokenizer.ggml.middle_token_id", tokens.Length),
            FimPad = Id(file, "tokenizer.ggml.fim_pad_token_id", tokens.Length),
            FimRepo = Id(file, "tokenizer.ggml.fim_rep_token_id", tokens.Length),
            FimSeparator = Id(file, "tokenizer.ggml.fim_sep_token_id", tokens.Length),
            AddBos = m.GetBoolOrNull("tokenizer.ggml.add_bos_token"),
            AddEos = m.GetBoolOrNull("tokenizer.ggml.add_eos_token"),
            AddSpacePrefix = m.GetBoolOrNull("tokenizer.ggml.add_space_prefix"),
            ModelName = m.GetStringOrNull("general.name"),
        };
        try
        {
            return new Vocabulary(model, m.GetStringOrNull("tokenizer.ggml.pre") ?? "default", tokens, scores, types,
                m.GetArrayOrNull<string>("tokenizer.ggml.merges"), options);
        }
        catch (ArgumentException e)
        {
            throw new GgufFormatException($"{file.Source}: {e.Message.Split(" (Parameter")[0]}", e);
        }
    }

    // llama.cpp ignores (with a warning) special ids outside the vocabulary and keeps the default.
    static int? Id(GgufFile file, string key, int count) =>
        file.Metadata.GetInt64OrNull(key) is long id && id >= 0 && id < count ? (int)id : null;

    /// <summary>tokenizer.ggml.model: "llama" (SentencePiece) or "gpt2" (byte-level BPE).</summary>
    public string Model { get; }

    /// <summary>tokenizer.ggml.pre, "default" when absent.</summary>
    public string Pre { get; }

    /// <summary>True for SentencePiece vocabularies (model "llama").</summary>
    public bool IsSpm => Model == "llama";

    /// <summary>Token texts by id.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Token scores by id (SPM merge priorities); zeros when the file has none.</summary>
    public IReadOnlyList<float> Scores { get; }

    /// <summary>Stored token types by id.</summary>
    public IReadOnlyList<TokenType> Types { get; }

    /// <summary>BPE merges "left right" in rank order; empty for SPM.</summary>
    public IReadOnlyList<string> Merges { get; }

    public int Count => Tokens.Count;
    public int Bos { get; }
    public int Eos { get; }
    public int Unk { get; }
    public int Pad { get; }
    public int Sep { get; }
    /// <summary>End of turn ("&lt;|eot_id|&gt;", "&lt;|im_end|&gt;" ...), from metadata or found by text.</summary>
    public int Eot { get; private set; }
    public int Eom { get; private set; }
    public bool AddBos { get; }
    public bool AddEos { get; }
    public bool AddSpacePrefix { get; }

    /// <summary>Ids that end generation (EOS, EOT, EOM and end-of-turn-looking control tokens).</summary>
    public IReadOnlySet<int> EndOfGeneration => _endOfGeneration;

    /// <summary>Load-time attributes of token <paramref name="id"/>.</summary>
    public TokenAttributes Attributes(int id) => _attributes[id];

    /// <summary>The id of the token whose text is exactly <paramref name="tokenText"/>.</summary>
    public bool TryGetId(string tokenText, out int id) => _ids.TryGetValue(tokenText, out id);

    /// <summary>Id lookup without allocating a string (hot tokenizer loops).</summary>
    public Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> SpanLookup => _ids.GetAlternateLookup<ReadOnlySpan<char>>();

    static int Pick(int? fromFile, int fallback) => fromFile ?? fallback;

    static TokenAttributes AttributesOf(TokenType t) => t switch
    {
        TokenType.Normal => TokenAttributes.Normal,
        TokenType.Unknown => TokenAttributes.Unknown,
        TokenType.Control => TokenAttributes.Control,
        TokenType.UserDefined => TokenAttributes.UserDefined,
        TokenType.Unused => TokenAttributes.Unused,
        TokenType.Byte => TokenAttributes.Byte,
        _ => TokenAttributes.None,
    };

    // llama.cpp finds end-of-turn, fill-in-the-middle and similar tokens by their text (when the
    // file gives no id) and forces them to be control tokens; tokenization depends on it (control
    // text is only parsed with parse_special), and so does when generation ends.
    static readonly string[] EotTexts = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "<end_of_utterance>"];
    static readonly string[] FimPreTexts = ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>"];
    static readonly string[] FimSufTexts = ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>"];
    static readonly string[] FimMidTexts = ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>"];
    static readonly string[] FimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"];
    static readonly string[] FimRepTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"];
    static readonly string[] FimSepTexts = ["<|file_sep|>"];
    // End-of-generation texts of the llama.cpp in LLamaSharp 0.30 (the reference), "</s>" included.
    static readonly string[] EogTexts = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>"];

    /// <summary>Fill-in-the-middle token ids (prefix, suffix, middle, pad, repo, file separator), None when absent.</summary>
    public (int Prefix, int Suffix, int Middle, int Pad, int Repo, int Separator) Fim { get; private set; }

    int DetectByText(int current, string[] texts)
    {
        if (current != None) return current;
        foreach (var text in texts)
            if (_ids.TryGetValue(text, out int id))
            {
                _attributes[id] |= TokenAttributes.Control;
                return id;
            }
        return None;
    }

    void DetectSpecialTokens(VocabularyOptions options)
    {
        Eot = DetectByText(Eot, EotTexts);
        Eom = DetectByText(Eom, ["<|eom_id|>"]);
        Fim = (DetectByText(Pick(options.FimPrefix, None), FimPreTexts), DetectByText(Pick(options.FimSuffix, None), FimSufTexts),
            DetectByText(Pick(options.FimMiddle, None), FimMidTexts), DetectByText(Pick(options.FimPad, None), FimPadTexts),
            DetectByText(Pick(options.FimRepo, None), FimRepTexts), DetectByText(Pick(options.FimSeparator, None), FimSepTexts));

        for (int i = 0; i < _attributes.Length; i++)
            if ((_attributes[i] & TokenAttributes.Control) != 0 && Tokens[i].Contains("unused", StringComparison.Ordinal))
                _attributes[i] |= TokenAttributes.Unused;

        foreach (var text in EogTexts)
            if (_ids.TryGetValue(text, out int id)) { _endOfGeneration.Add(id); _attributes[id] |= TokenAttributes.Control; }
        foreach (int id in new[] { Eos, Eot, Eom, Fim.Pad, Fim.Repo, Fim.Separator })
            if (id != None) _endOfGeneration.Add(id);
    }

    // llama.cpp sets strip attributes by model name; Phi-3's special tokens swallow the
    // whitespace after them when parsed from text.
    void ApplyModelStripRules(string modelName)
    {
        string name = modelName.ToLowerInvariant();
        if (!name.Contains("phi-3", StringComparison.Ordinal) && !name.Contains("phi3", StringComparison.Ordinal)) return;
        for (int i = 0; i < _attributes.Length; i++)
            if ((_attributes[i] & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) != 0)
                _attributes[i] |= TokenAttributes.RStrip;
        if (_ids.TryGetValue("</s>", out int eos)) _attributes[eos] |= TokenAttributes.RStrip;
        foreach (var text in new[] { "<unk>", "<s>", "<|endoftext|>" })
            if (_ids.TryGetValue(text, out int id)) _attributes[id] &= ~TokenAttributes.RStrip;
    }
}

/// <summary>Optional vocabulary settings; null means "use llama.cpp's default for this kind of vocabulary".</summary>
public sealed class VocabularyOptions
{
    public int? Bos { get; init; }
    public int? Eos { get; init; }
    public int? Unk { get; init; }
    public int? Pad { get; init; }
    public int? Sep { get; init; }
    public int? Eot { get; init; }
    public int? Eom { get; init; }
    public int? FimPrefix { get; init; }
    public int? FimSuffix { get; init; }
    public int? FimMiddle { get; init; }
    public int? FimPad { get; init; }
    public int? FimRepo { get; init; }
    public int? FimSeparator { get; init; }
    public bool? AddBos { get; init; }
    public bool? AddEos { get; init; }
    public bool? AddSpacePrefix { get; init; }
    /// <summary>general.name; llama.cpp keys a few per-model token rules on it (Phi-3).</summary>
    public string? ModelName { get; init; }
}
