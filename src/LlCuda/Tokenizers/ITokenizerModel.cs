namespace LlCuda.Tokenizers;

/// <summary>
/// The part of a tokenizer that differs between vocabulary kinds (SPM, BPE): turning a run of
/// plain text into ids, and an ordinary token back into bytes. Special-token splitting, BOS/EOS,
/// control and user-defined tokens are handled once, by <c>Tokenizer</c>, for every model kind.
/// </summary>
internal interface ITokenizerModel
{
    /// <summary>
    /// Appends the ids of <paramref name="text"/>: a run of text that contains no special-token
    /// text (the caller split those out). For SPM the caller has already added the space prefix
    /// where llama.cpp adds one.
    /// </summary>
    void Encode(string text, List<int> output);

    /// <summary>Appends the bytes that an ordinary (normal or byte) token stands for.</summary>
    void AppendTokenBytes(int id, List<byte> output);
}
