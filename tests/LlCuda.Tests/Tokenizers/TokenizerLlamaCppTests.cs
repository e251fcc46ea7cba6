using LlCuda.Gguf;
using LlCuda.Tests.Support;
using LlCuda.Tokenizers;

namespace LlCuda.Tests.Tokenizers;

/// <summary>
/// Our tokenizer against llama.cpp's (LLamaSharp, vocabulary-only load) on random text and random
/// ids: encode with/without BOS and with/without special parsing, token
/// attributes, token_to_piece and detokenize must agree exactly. Every vocabulary file with a
/// GGUF: SPM ("llama") and byte-level BPE ("gpt2") go through the same facade.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public class TokenizerLlamaCppTests
{
    const int StringCount = 300;

    public static TheoryData<string> Vocabs
    {
        get
        {
            var data = TokenizerVectorFiles.TheoryDataWithModel("llama");
            foreach (string name in TokenizerVectorFiles.NamesWithModel("gpt2"))
                data.Add(name);
            return data;
        }
    }

    static Tokenizer Load(string vocab)
    {
        using var file = GgufFile.Open(TestPaths.Vocab(vocab));
        return Tokenizer.FromGguf(file);
    }

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void Encode_RandomText_MatchesLlamaCppInAllModes(string vocab)
    {
        var tokenizer = Load(vocab);
        using var llama = new TokenizerLlamaCppReference(TestPaths.Vocab(vocab));
        var texts = TokenizerRandomText.Strings(seed: 20261125, StringCount);

        int compared = 0;
        foreach (string text in texts)
        {
            foreach (bool addSpecial in (bool[])[false, true])
            {
                foreach (bool parseSpecial in (bool[])[false, true])
                {
                    int[] expected = llama.Tokenize(text, addSpecial, parseSpecial);
                    int[] actual = tokenizer.Encode(text, addSpecial, parseSpecial);
                    if (!actual.SequenceEqual(expected))
                        Assert.Fail($"{vocab}, addSpecial={addSpecial}, parseSpecial={parseSpecial}: text {TokenizerVectorsTests.Escape(text)}\n" +
                                    $"  llama.cpp: [{string.Join(' ', expected)}]\n  ours:      [{string.Join(' ', actual)}]");
                    compared++;
                }
            }
        }
        Assert.Equal(StringCount * 4, compared);
    }

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void Attributes_EveryToken_MatchLlamaCpp(string vocab)
    {
        var tokenizer = Load(vocab);
        using var llama = new TokenizerLlamaCppReference(TestPaths.Vocab(vocab));
        Assert.Equal(llama.Count, tokenizer.Count);

        var mismatches = new List<string>();
        for (int id = 0; id < tokenizer.Count; id++)
        {
            int expected = llama.Attributes(id);
            int actual = (int)tokenizer.GetAttributes(id);
            if (expected != actual)
                mismatches.Add($"{id} '{tokenizer.Vocabulary.Tokens[id]}': llama.cpp {(TokenAttributes)expected}, ours {(TokenAttributes)actual}");
            if (llama.IsEndOfGeneration(id) != tokenizer.IsEndOfGeneration(id))
                mismatches.Add($"{id} '{tokenizer.Vocabulary.Tokens[id]}': end of generation llama.cpp {llama.IsEndOfGeneration(id)}, ours {tokenizer.IsEndOfGeneration(id)}");
        }
        Assert.True(mismatches.Count == 0, $"{vocab}: {mismatches.Count} differences:\n" + string.Join('\n', mismatches.Take(20)));
    }

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void TokenToPiece_EveryToken_MatchesLlamaCpp(string vocab)
    {
        var tokenizer = Load(vocab);
        using var llama = new TokenizerLlamaCppReference(TestPaths.Vocab(vocab));

        for (int id = 0; id < tokenizer.Count; id++)
        {
            foreach (bool special in (bool[])[false, true])
            {
                byte[] expected = llama.TokenToPiece(id, special);
                byte[] actual = tokenizer.TokenToPiece(id, special);
                if (!actual.AsSpan().SequenceEqual(expected))
                    Assert.Fail($"{vocab}: token {id} '{tokenizer.Vocabulary.Tokens[id]}', special={special}: llama.cpp [{Convert.ToHexString(expected)}], ours [{Convert.ToHexString(actual)}]");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void Decode_RandomIdsAndEncodedText_MatchLlamaCppDetokenize(string vocab)
    {
        var tokenizer = Load(vocab);
        using var llama = new TokenizerLlamaCppReference(TestPaths.Vocab(vocab));
        var random = new Random(7);
        var v = tokenizer.Vocabulary;

        // Random ids, with BOS/EOS often first/last (the cases detokenize treats specially), and
        // the ids of random text (real pieces, byte tokens, special tokens in context).
        var sequences = new List<int[]>();
        for (int i = 0; i < StringCount; i++)
        {
            var ids = Enumerable.Range(0, random.Next(0, 24)).Select(_ => random.Next(tokenizer.Count)).ToList();
            if (random.Next(2) == 0) ids.Insert(0, v.Bos);
            if (random.Next(3) == 0) ids.Add(v.Eos);
            sequences.Add([.. ids]);
        }
        foreach (string text in TokenizerRandomText.Strings(seed: 99, StringCount))
            sequences.Add(tokenizer.Encode(text, addSpecial: random.Next(2) == 0, parseSpecial: true));

        foreach (int[] ids in sequences)
        {
            foreach (bool removeSpecial in (bool[])[false, true])
            {
                foreach (bool unparseSpecial in (bool[])[false, true])
                {
                    byte[] expected = llama.Detokenize(ids, removeSpecial, unparseSpecial);
                    byte[] actual = tokenizer.DecodeToUtf8(ids, removeSpecial, unparseSpecial);
                    if (!actual.AsSpan().SequenceEqual(expected))
                        Assert.Fail($"{vocab}: ids [{string.Join(' ', ids)}], removeSpecial={removeSpecial}, unparseSpecial={unparseSpecial}\n" +
                                    $"  llama.cpp: [{Convert.ToHexString(expected)}]\n  ours:      [{Convert.ToHexString(actual)}]");
                }
            }
        }
    }
}
