using LlCuda.Gguf;
using LlCuda.Tokenizers;

namespace LlCuda.Tests.Tokenizers;

/// <summary>Shared helpers of the BPE tests.</summary>
internal static class BpeTestSupport
{
    /// <summary>Names NAME of the ../shared/vocab/ggml-vocab-NAME.gguf with vectors whose tokenizer.ggml.model is "gpt2".</summary>
    public static IReadOnlyList<string> SharedBpeVocabNames() => TokenizerVectorFiles.NamesWithModel("gpt2");

    public static Vocabulary LoadVocabulary(string path)
    {
        using var file = GgufFile.Open(path);
        return Vocabulary.FromGguf(file);
    }

    /// <summary>
    /// llama_tokenize(text, add_special: false, parse_special: false) through the facade: user-defined
    /// tokens are cut out first (tokenizer_st_partition), the runs between go through BpeModel.
    /// </summary>
    public static int[] Encode(Tokenizer tokenizer, string text) => tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
}
