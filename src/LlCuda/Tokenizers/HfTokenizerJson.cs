using System.Text;
using System.Text.Json;
using LlCuda.Gguf;

namespace LlCuda.Tokenizers;

/// <summary>
/// A byte-level BPE vocabulary imported from a Hugging Face tokenizer.json (Llama 3, Qwen...),
/// turned into GGUF tokenizer metadata the way llama.cpp's convert_hf_to_gguf.py does
/// (get_vocab_base + gguf.SpecialVocab), so that a <see cref="Vocabulary"/> or a vocab-only GGUF
/// made from it tokenizes exactly like the GGUF of the converted model.
///
/// What the converter does and this importer repeats:
/// - tokens in id order: the model's vocab plus added_tokens; ids missing from both (up to the
///   model's vocab_size) become "[PAD{id}]" of type Unused;
/// - types: added tokens that are special, or look special ("&lt;|...|&gt;", "&lt;｜...｜&gt;",
///   "&lt;pad&gt;", "&lt;mask&gt;"...), are Control; other added tokens are UserDefined (with '▁' turned
///   into ' '); the rest are Normal;
/// - merges: "a b" strings as they are; the [a, b] pair form (transformers ≥ 4.45) is joined with
///   a space after writing any space inside a part as 'Ġ' (U+0120);
/// - special ids from tokenizer_config.json ("bos_token"... matched against added_tokens by
///   content, "add_bos_token"/"add_eos_token"), then from a TemplateProcessing post-processor.
/// Not repeated: the converter re-encodes non-normalized added tokens through transformers
/// (decode(encode(t))), which is the identity for the tokenizers llcuda imports.
/// </summary>
public sealed class HfTokenizerJson
{
    HfTokenizerJson(string source, string[] tokens, TokenType[] types, string[] merges, SpecialTokens special)
    {
        Source = source;
        Tokens = tokens;
        Types = types;
        Merges = merges;
        Bos = special.Bos; Eos = special.Eos; Unk = special.Unk; Sep = special.Sep; Pad = special.Pad;
        AddBos = special.AddBos; AddEos = special.AddEos;
    }

    /// <summary>Where the tokenizer came from (file path or "&lt;memory&gt;"), for messages.</summary>
    public string Source { get; }

    /// <summary>Token texts by id (byte-level strings: ' ' is 'Ġ').</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Token types by id, as the converter assigns them.</summary>
    public IReadOnlyList<TokenType> Types { get; }

    /// <summary>Merges "left right" in rank order.</summary>
    public IReadOnlyList<string> Merges { get; }

    public int? Bos { get; }
    public int? Eos { get; }
    public int? Unk { get; }
    public int? Sep { get; }
    public int? Pad { get; }
    public bool? AddBos { get; }
    public bool? AddEos { get; }

    /// <summary>
    /// Reads <paramref name="tokenizerJsonPath"/> and, when present beside it, tokenizer_config.json.
    /// </summary>
    /// <exception cref="FormatException">The file is not a byte-level BPE tokenizer.json.</exception>
    public static HfTokenizerJson Load(string tokenizerJsonPath, HfTokenizerJsonOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenizerJsonPath);
        byte[] json = File.ReadAllBytes(tokenizerJsonPath);
        string configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath))!, "tokenizer_config.json");
        byte[]? config = File.Exists(configPath) ? File.ReadAllBytes(configPath) : null;
        return Parse(json, config, options, tokenizerJsonPath);
    }

    /// <summary>Parses the bytes of a tokenizer.json and, optionally, of its tokenizer_config.json.</summary>
    /// <exception cref="FormatException">The JSON is not a byte-level BPE tokenizer.json.</exception>
    public static HfTokenizerJson Parse(byte[] tokenizerJson, byte[]? tokenizerConfigJson = null,
        HfTokenizerJsonOptions? options = null, string source = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        options ??= new HfTokenizerJsonOptions();
        using var doc = ParseJson(tokenizerJson, source);
        using var config = tokenizerConfigJson is null ? null : ParseJson(tokenizerConfigJson, source + " (tokenizer_config.json)");
        var root = doc.RootElement;

        var model = Property(root, "model", JsonValueKind.Object, source);
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        if (type != "BPE")
            throw new FormatException($"{source}: model.type is '{type}', expected 'BPE' (only byte-level BPE tokenizers are imported; SentencePiece models need their tokenizer.model)");
        if (!UsesByteLevel(root))
            throw new FormatException($"{source}: no ByteLevel pre-tokenizer or decoder: this is not a byte-level (GPT-2 style) BPE tokenizer, which is the only kind imported");

        // Token texts by id: the model's vocab, then added tokens (which win, as in transformers' get_vocab).
        var byId = new Dictionary<int, string>();
        foreach (var entry in Property(model, "vocab", JsonValueKind.Object, source).EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw new FormatException($"{source}: model.vocab['{entry.Name}'] is {entry.Value.GetRawText()}, expected a non-negative integer id");
            byId[id] = entry.Name;
        }
        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedTokens) && addedTokens.ValueKind == JsonValueKind.Array)
            foreach (var a in addedTokens.EnumerateArray())
            {
                if (!a.TryGetProperty("id", out var idValue) || !idValue.TryGetInt32(out int id) || id < 0
                    || !a.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                    throw new FormatException($"{source}: added_tokens entry {a.GetRawText()} lacks an integer id or a string content");
                added.Add(new AddedToken(id, content.GetString()!, Bool(a, "special") ?? false));
                byId[id] = content.GetString()!;
            }
        if (byId.Count == 0) throw new FormatException($"{source}: model.vocab is empty");

        int count = Math.Max(byId.Keys.Max() + 1, options.VocabSize ?? 0);
        var addedById = added.GroupBy(a => a.Id).ToDictionary(g => g.Key, g => g.Last());
        var addedContents = added.Select(a => a.Content).ToHashSet(StringComparer.Ordinal);
        var tokens = new string[count];
        var types = new TokenType[count];
        for (int id = 0; id < count; id++)
        {
            if (!byId.TryGetValue(id, out var text))
            {
                tokens[id] = $"[PAD{id}]";
                types[id] = TokenType.Unused;
            }
            else if (addedContents.Contains(text))
            {
                bool special = addedById.TryGetValue(id, out var a) ? a.Special : added.First(x => x.Content == text).Special;
                if (special || LooksSpecial(text))
                {
                    tokens[id] = text;
                    types[id] = TokenType.Control;
                }
                else
                {
                    tokens[id] = text.Replace('\u2581', ' ');
                    types[id] = TokenType.UserDefined;
                }
            }
            else
            {
                tokens[id] = text;
                types[id] = TokenType.Normal;
            }
        }

        var merges = ReadMerges(model, source);
        var specials = ReadSpecialTokens(root, config?.RootElement, added, source);
        specials = specials with
        {
            Bos = options.Bos ?? specials.Bos,
            Eos = options.Eos ?? specials.Eos,
            AddBos = options.AddBos ?? specials.AddBos,
            AddEos = options.AddEos ?? specials.AddEos,
        };
        foreach (var (name, id) in new[] { ("bos", specials.Bos), ("eos", specials.Eos), ("unk", specials.Unk), ("sep", specials.Sep), ("pad", specials.Pad) })
            if (id is int i && (i < 0 || i >= count))
                throw new FormatException($"{source}: {name} token id {i} is outside the vocabulary (0..{count - 1})");
        return new HfTokenizerJson(source, tokens, types, merges, specials);
    }

    /// <summary>A vocabulary for llcuda's tokenizer; <paramref name="pre"/> is tokenizer.ggml.pre ("llama-bpe", "qwen2"...).</summary>
    public Vocabulary ToVocabulary(string pre, string? modelName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pre);
        return new Vocabulary("gpt2", pre, [.. Tokens], null, [.. Types], [.. Merges], new VocabularyOptions
        {
            Bos = Bos, Eos = Eos, Unk = Unk, Sep = Sep, Pad = Pad, AddBos = AddBos, AddEos = AddEos, ModelName = modelName,
        });
    }

    /// <summary>The tokenizer.ggml.* metadata the converter writes, in its order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> ToGgufMetadata(string pre)
    {
        ArgumentException.ThrowIfNullOrEmpty(pre);
        var m = new List<KeyValuePair<string, GgufValue>>
        {
            new("tokenizer.ggml.model", GgufValue.Of("gpt2")),
            new("tokenizer.ggml.pre", GgufValue.Of(pre)),
            new("tokenizer.ggml.tokens", GgufValue.Of(Tokens.ToArray())),
            new("tokenizer.ggml.token_type", GgufValue.Of(Types.Select(x => (int)x).ToArray())),
            new("tokenizer.ggml.merges", GgufValue.Of(Merges.ToArray())),
        };
        void Id(string key, int? id) { if (id is int i) m.Add(new(key, GgufValue.Of((uint)i))); }
        Id("tokenizer.ggml.bos_token_id", Bos);
        Id("tokenizer.ggml.eos_token_id", Eos);
        Id("tokenizer.ggml.unknown_token_id", Unk);
        Id("tokenizer.ggml.seperator_token_id", Sep);
        Id("tokenizer.ggml.padding_token_id", Pad);
        if (AddBos is bool addBos) m.Add(new("tokenizer.ggml.add_bos_token", GgufValue.Of(addBos)));
        if (AddEos is bool addEos) m.Add(new("tokenizer.ggml.add_eos_token", GgufValue.Of(addEos)));
        return m;
    }

    /// <summary>
    /// Writes a vocab-only GGUF (no tensors) that llama.cpp loads with vocab_only, e.g. as the
    /// reference tokenizer in tests. llama.cpp reads an architecture's hyperparameters before it
    /// looks at vocab_only, so small placeholder ones are written for <paramref name="architecture"/>.
    /// </summary>
    /// <param name="architecture">general.architecture: "llama" or "qwen2" (or another llama-like one).</param>
    public void WriteVocabOnlyGguf(string path, string architecture, string pre, string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(architecture);
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValue.Of(architecture));
        w.Add("general.name", GgufValue.Of(name ?? $"vocab-only ({pre})"));
        // Placeholders: a 1-layer, 1-head model. Only their presence matters for vocab_only.
        w.Add($"{architecture}.vocab_size", GgufValue.Of((uint)Tokens.Count));
        w.Add($"{architecture}.context_length", GgufValue.Of(4096u));
        w.Add($"{architecture}.embedding_length", GgufValue.Of(64u));
        w.Add($"{architecture}.feed_forward_length", GgufValue.Of(128u));
        w.Add($"{architecture}.block_count", GgufValue.Of(1u));
        w.Add($"{architecture}.attention.head_count", GgufValue.Of(1u));
        w.Add($"{architecture}.attention.head_count_kv", GgufValue.Of(1u));
        w.Add($"{architecture}.attention.layer_norm_rms_epsilon", GgufValue.Of(1e-5f));
        w.Add($"{architecture}.rope.freq_base", GgufValue.Of(10000f));
        foreach (var (key, value) in ToGgufMetadata(pre)) w.Add(key, value);
        w.Write(path);
    }

    readonly record struct AddedToken(int Id, string Content, bool Special);

    readonly record struct SpecialTokens(int? Bos, int? Eos, int? Unk, int? Sep, int? Pad, bool? AddBos, bool? AddEos);

    static JsonDocument ParseJson(byte[] bytes, string source)
    {
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}", e);
        }
    }

    static JsonElement Property(JsonElement obj, string name, JsonValueKind kind, string source)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind != kind)
            throw new FormatException($"{source}: '{name}' is missing or not a JSON {kind.ToString().ToLowerInvariant()} (is this a Hugging Face tokenizer.json?)");
        return value;
    }

    static bool? Bool(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean() : null;

    static bool UsesByteLevel(JsonElement root)
    {
        static bool Has(JsonElement e)
        {
            if (e.ValueKind != JsonValueKind.Object) return false;
            if (e.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "ByteLevel") return true;
            foreach (var list in new[] { "pretokenizers", "decoders" })
                if (e.TryGetProperty(list, out var items) && items.ValueKind == JsonValueKind.Array && items.EnumerateArray().Any(Has))
                    return true;
            return false;
        }
        return (root.TryGetProperty("pre_tokenizer", out var pre) && Has(pre)) || (root.TryGetProperty("decoder", out var dec) && Has(dec));
    }

    // convert_hf_to_gguf's does_token_look_special.
    static bool LooksSpecial(string text) =>
        text is "<pad>" or "<mask>" or "<2mass>" or "[@BOS@]"
        || (text.StartsWith("<|", StringComparison.Ordinal) && text.EndsWith("|>", StringComparison.Ordinal))
        || (text.StartsWith("<｜", StringComparison.Ordinal) && text.EndsWith("｜>", StringComparison.Ordinal))
        || (text.StartsWith("<unused", StringComparison.Ordinal) && text.EndsWith('>'));

    static string[] ReadMerges(JsonElement model, string source)
    {
        if (!model.TryGetProperty("merges", out var merges) || merges.ValueKind != JsonValueKind.Array)
            throw new FormatException($"{source}: model.merges is missing: a BPE tokenizer needs its merges");
        var result = new string[merges.GetArrayLength()];
        int i = 0;
        var sb = new StringBuilder();
        foreach (var merge in merges.EnumerateArray())
        {
            if (merge.ValueKind == JsonValueKind.String)
                result[i] = merge.GetString()!;
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                     && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            {
                // A space inside a part would end the part in the "a b" form: write it as 'Ġ'.
                sb.Clear();
                sb.Append(merge[0].GetString()!.Replace(' ', '\u0120')).Append(' ').Append(merge[1].GetString()!.Replace(' ', '\u0120'));
                result[i] = sb.ToString();
            }
            else
                throw new FormatException($"{source}: model.merges[{i}] is {merge.GetRawText()}, expected \"a b\" or [\"a\", \"b\"]");
            i++;
        }
        return result;
    }

    // gguf-py's SpecialVocab: tokenizer_config.json first ("bos_token" is a string or {content}),
    // then a TemplateProcessing post-processor for add_bos/add_eos.
    static SpecialTokens ReadSpecialTokens(JsonElement root, JsonElement? config, List<AddedToken> added, string source)
    {
        int? IdOf(string? content) => content is null ? null : added.Where(a => a.Content == content).Select(a => (int?)a.Id).FirstOrDefault();
        string? ConfigToken(string name)
        {
            if (config is not { ValueKind: JsonValueKind.Object } c || !c.TryGetProperty(name, out var v)) return null;
            if (v.ValueKind == JsonValueKind.String) return v.GetString();
            if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                return content.GetString();
            return null;
        }

        string? bosText = ConfigToken("bos_token") ?? ConfigToken("cls_token");
        string? eosText = ConfigToken("eos_token") ?? ConfigToken("sep_token");
        bool? addBos = null, addEos = null;
        if (root.TryGetProperty("post_processor", out var post) && post.ValueKind == JsonValueKind.Object)
        {
            var processors = post.TryGetProperty("processors", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().ToList() : [post];
            foreach (var p in processors)
            {
                if (!p.TryGetProperty("type", out var type) || type.GetString() != "TemplateProcessing") continue;
                if (!p.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array || single.GetArrayLength() < 2) continue;
                string? first = SpecialTokenId(single[0]), last = SpecialTokenId(single[single.GetArrayLength() - 1]);
                if (first is not null)
                {
                    if (config is null) bosText = first;
                    addBos = first == bosText;
                }
                if (last is not null)
                {
                    if (config is null) eosText = last;
                    addEos = last == eosText;
                }
            }
        }
        if (config is { ValueKind: JsonValueKind.Object } cfg)
        {
            addBos = Bool(cfg, "add_bos_token") ?? addBos;
            addEos = Bool(cfg, "add_eos_token") ?? addEos;
        }
        return new SpecialTokens(IdOf(bosText), IdOf(eosText), IdOf(ConfigToken("unk_token")), IdOf(ConfigToken("sep_token")),
            IdOf(ConfigToken("pad_token")), addBos, addEos);
    }

    static string? SpecialTokenId(JsonElement item) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty("SpecialToken", out var s) && s.TryGetProperty("id", out var id)
            && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
}

/// <summary>Settings the converter takes from config.json rather than tokenizer.json.</summary>
public sealed class HfTokenizerJsonOptions
{
    /// <summary>config.json's vocab_size: ids past the tokenizer's last become "[PAD{id}]" (Unused).</summary>
    public int? VocabSize { get; init; }
    /// <summary>Overrides the BOS id (config.json's bos_token_id when tokenizer_config.json names none).</summary>
    public int? Bos { get; init; }
    /// <summary>Overrides the EOS id.</summary>
    public int? Eos { get; init; }
    public bool? AddBos { get; init; }
    public bool? AddEos { get; init; }
}
