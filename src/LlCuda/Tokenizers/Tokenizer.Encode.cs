namespace LlCuda.Tokenizers;

public sealed partial class Tokenizer
{
    /// <summary>
    /// The ids of <paramref name="text"/>, as llama.cpp's llama_tokenize(text, add_special, parse_special).
    /// </summary>
    /// <param name="text">Any string; lone surrogates count as U+FFFD (what its UTF-8 encoding carries).</param>
    /// <param name="addSpecial">Add BOS/EOS where the vocabulary asks for them (add_bos_token, add_eos_token).</param>
    /// <param name="parseSpecial">
    /// Turn control-token text in the input ("&lt;s&gt;", "&lt;|end|&gt;") into those tokens. User-defined
    /// tokens are always matched; without this, control-token text is tokenized as ordinary text.
    /// </param>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 4);
        Encode(text, output, addSpecial, parseSpecial);
        return [.. output];
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="output"/>; see <see cref="Encode(string, bool, bool)"/>.</summary>
    public void Encode(string text, List<int> output, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(output);
        text = ReplaceLoneSurrogates(text);
        var fragments = _splitter.Split(text, parseSpecial);
        if (_spm is not null)
            EncodeSpm(text, fragments, output, addSpecial);
        else
            EncodeOther(text, fragments, output, addSpecial);
    }

    // llama.cpp's SPM branch: a space goes before the first text and before every text that
    // follows a special token (SentencePiece's "dummy prefix"), BOS or not.
    void EncodeSpm(string text, List<TextFragment> fragments, List<int> output, bool addSpecial)
    {
        if (addSpecial && Vocabulary.AddBos)
            output.Add(Vocabulary.Bos);
        bool previousWasSpecial = true;
        foreach (var fragment in fragments)
        {
            if (fragment.IsToken)
            {
                output.Add(fragment.Token);
                previousWasSpecial = true;
                continue;
            }
            _spm!.Encode(text.AsSpan(fragment.Start, fragment.Length), Vocabulary.AddSpacePrefix && previousWasSpecial, output);
            previousWasSpecial = false;
        }
        if (addSpecial && Vocabulary.AddEos)
            output.Add(Vocabulary.Eos);
    }

    // llama.cpp's BPE branch: no space prefix; the model pre-tokenizes each text run itself.
    void EncodeOther(string text, List<TextFragment> fragments, List<int> output, bool addSpecial)
    {
        if (addSpecial && Vocabulary.AddBos)
            output.Add(Vocabulary.Bos);
        foreach (var fragment in fragments)
        {
            if (fragment.IsToken)
                output.Add(fragment.Token);
            else
                _model.Encode(text.Substring(fragment.Start, fragment.Length), output);
        }
        if (addSpecial && Vocabulary.AddEos)
            output.Add(Vocabulary.Eos);
    }

    // llama.cpp sees UTF-8, where a lone surrogate can only arrive as U+FFFD; make the string say so.
    static string ReplaceLoneSurrogates(string text)
    {
        int first = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0)
            return text;
        return string.Create(text.Length, (text, first), static (span, state) =>
        {
            var (source, from) = state;
            source.AsSpan().CopyTo(span);
            for (int i = from; i < span.Length; i++)
            {
                if (char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
                    i++;
                else if (char.IsSurrogate(span[i]))
                    span[i] = '\uFFFD';
            }
        });
    }
}
