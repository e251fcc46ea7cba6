using System.Diagnostics.CodeAnalysis;
using System.Text;
using LlCuda.Gguf;

namespace LlCuda.Tokenizers;

/// <summary>
/// Text to token ids and back, id for id and byte for byte what llama.cpp gives for the same
/// vocabulary (llama_tokenize, llama_token_to_piece, llama_detokenize in src/llama-vocab.cpp).
/// This class does what is common to every vocabulary kind: special tokens, BOS/EOS, SPM's space
/// prefix, control tokens on output. The kind-specific part is an <see cref="ITokenizerModel"/>
/// picked by <see cref="Vocabulary.Model"/>. Immutable after construction: safe to share between threads.
/// </summary>
public sealed partial class Tokenizer
{
    readonly ITokenizerModel _model;
    readonly SpmModel? _spm;                 // _model when the vocabulary is SPM: encodes spans without copies
    readonly string[] _texts;                // [n_vocab] token text; empty ones renamed "[EMPTY_id]" as llama.cpp does
    readonly TokenAttributes[] _attributes;  // [n_vocab] llama.cpp's load-time attributes (from Vocabulary)
    readonly SpecialTokenSplitter _splitter;
    readonly byte[][] _pieces;               // [n_vocab] llama.cpp's token_to_piece(id, special: true) cache
    readonly bool _cleanSpaces;              // llama.cpp's clean_up_tokenization_spaces on decode

    /// <summary>Builds the tokenizer of a GGUF file.</summary>
    public static Tokenizer FromGguf(GgufFile file) => new(Vocabulary.FromGguf(file));

    /// <param name="vocabulary">The vocabulary; its <see cref="Vocabulary.Model"/> picks the algorithm.</param>
    public Tokenizer(Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        Vocabulary = vocabulary;
        int n = vocabulary.Count;
        if (vocabulary.AddBos && (vocabulary.Bos < 0 || vocabulary.Bos >= n))
            throw new ArgumentException($"vocabulary asks for BOS (tokenizer.ggml.add_bos_token) but its BOS id is {vocabulary.Bos} " +
                $"(vocabulary of {n} tokens): set tokenizer.ggml.bos_token_id or add_bos_token=false", nameof(vocabulary));
        if (vocabulary.AddEos && (vocabulary.Eos < 0 || vocabulary.Eos >= n))
            throw new ArgumentException($"vocabulary asks for EOS (tokenizer.ggml.add_eos_token) but its EOS id is {vocabulary.Eos} " +
                $"(vocabulary of {n} tokens): set tokenizer.ggml.eos_token_id or add_eos_token=false", nameof(vocabulary));

        _texts = new string[n];
        _attributes = new TokenAttributes[n];
        for (int id = 0; id < n; id++)
        {
            _texts[id] = vocabulary.Tokens[id] is { Length: > 0 } t ? t : $"[EMPTY_{id}]";
            _attributes[id] = vocabulary.Attributes(id);
        }

        _model = CreateModel(vocabulary);
        _spm = _model as SpmModel;
        _splitter = new SpecialTokenSplitter(_texts, _attributes);
        _cleanSpaces = CleansSpaces(vocabulary);

        _pieces = new byte[n][];
        var piece = new List<byte>();
        for (int id = 0; id < n; id++)
        {
            piece.Clear();
            BuildPiece(id, piece);
            _pieces[id] = [.. piece];
        }
    }

    /// <summary>The vocabulary this tokenizer encodes with.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>Number of tokens; valid ids are 0..Count-1.</summary>
    public int Count => _texts.Length;

    /// <summary>llama.cpp's attribute bits of a token (its type after llama.cpp's corrections).</summary>
    public TokenAttributes GetAttributes(int id)
    {
        CheckId(id);
        return _attributes[id];
    }

    /// <summary>Whether generating this token ends generation (llama_vocab_is_eog).</summary>
    public bool IsEndOfGeneration(int id) => Vocabulary.EndOfGeneration.Contains(id);

    // The one place that maps tokenizer.ggml.model to an algorithm.
    static ITokenizerModel CreateModel(Vocabulary vocabulary) => vocabulary.Model switch
    {
        "llama" => new SpmModel(vocabulary),
        "gpt2" => new BpeModel(vocabulary),
        _ => throw new NotSupportedException(
            $"tokenizer model '{vocabulary.Model}' (tokenizer.ggml.model) is not supported: supported models are 'llama' (SentencePiece BPE) and 'gpt2' (byte-level BPE)"),
    };

    // llama.cpp turns clean_spaces on for BPE vocabularies except these pre-tokenizers (and never for SPM).
    static readonly HashSet<string> PreWithoutSpaceCleanup = new(StringComparer.Ordinal)
    {
        "deepseek-llm", "deepseek-coder", "deepseek-v3", "spark2_5", "youtu", "sarvam-moe", "command-r",
        "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "qwen35", "poro-chat", "viking", "tekken", "smollm",
        "chameleon", "gpt-4o", "llama4", "kanana2", "talkie", "granite-embed-multi-97m", "tiny_aya", "cohere2moe",
        "superbpe", "trillion", "granite-docling", "bailingmoe", "bailingmoe2", "llada-moe", "seed-coder",
        "hunyuan", "hunyuan-dense", "hy_v4", "joyai-llm", "kimi-k2", "ufakzeka", "grok-2", "afmoe", "laguna",
        "minimax-m2", "solar-open",
    };

    static bool CleansSpaces(Vocabulary vocabulary) =>
        vocabulary.Model == "gpt2" && !PreWithoutSpaceCleanup.Contains(vocabulary.Pre);

    // llama.cpp's token_to_piece with special = true; special = false only blanks control and unknown tokens.
    void BuildPiece(int id, List<byte> output)
    {
        var attributes = _attributes[id];
        if ((attributes & (TokenAttributes.Unknown | TokenAttributes.Control | TokenAttributes.UserDefined)) != 0)
            output.AddRange(Encoding.UTF8.GetBytes(_texts[id]));
        else if ((attributes & (TokenAttributes.Normal | TokenAttributes.Byte)) != 0)
            _model.AppendTokenBytes(id, output);
        // Unused and undefined tokens print nothing.
    }

    void CheckId(int id)
    {
        if ((uint)id >= (uint)_texts.Length)
            ThrowBadId(id);
    }

    [DoesNotReturn]
    void ThrowBadId(int id) => throw new ArgumentOutOfRangeException(nameof(id), id,
        $"token id {id} is outside the vocabulary of {_texts.Length} tokens (valid ids are 0..{_texts.Length - 1})");
}
