namespace LlCuda.Tokenizers;

/// <summary>Token kinds as stored in tokenizer.ggml.token_type (llama.cpp's llama_token_type).</summary>
public enum TokenType
{
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>
/// Per-token attributes as llama.cpp derives them at load time (llama_token_attr): the stored
/// type, plus what llama.cpp infers from token text and model name (control-looking tokens such
/// as "&lt;|eot_id|&gt;" made control, unused markers, strip rules of special tokens).
/// </summary>
[Flags]
public enum TokenAttributes
{
    None = 0,
    Unknown = 1 << 0,
    Unused = 1 << 1,
    Normal = 1 << 2,
    Control = 1 << 3,
    UserDefined = 1 << 4,
    Byte = 1 << 5,
    Normalized = 1 << 6,
    /// <summary>Whitespace to the left of this special token is removed when it is parsed from text.</summary>
    LStrip = 1 << 7,
    /// <summary>Whitespace to the right of this special token is removed when it is parsed from text.</summary>
    RStrip = 1 << 8,
    SingleWord = 1 << 9,
}
