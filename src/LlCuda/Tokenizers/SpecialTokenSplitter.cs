using System.Text;

namespace LlCuda.Tokenizers;

/// <summary>
/// One piece of text to tokenize: either a special token found in the text, or a run of plain
/// text (a char range of the source string) that the tokenizer model encodes.
/// </summary>
internal readonly record struct TextFragment(int Token, int Start, int Length)
{
    public bool IsToken => Token >= 0;
    public static TextFragment Text(int start, int length) => new(-1, start, length);
    public static TextFragment Special(int token) => new(token, 0, 0);
}

/// <summary>
/// Cuts special-token texts out of the input before the model sees it, as llama.cpp's
/// tokenizer_st_partition does: control, user-defined and unknown tokens are tried longest
/// (in UTF-8 bytes) first, each one splitting every plain run at all of its occurrences, left to
/// right. User-defined tokens are always split out; control and unknown tokens only when the
/// caller parses special text. A token with LStrip/RStrip also eats the whitespace (C isspace)
/// right before/after it.
/// </summary>
internal sealed class SpecialTokenSplitter
{
    readonly string[] _texts;             // [n_vocab] token text, never empty
    readonly TokenAttributes[] _attributes; // [n_vocab]
    readonly int[] _all;                  // control, user-defined and unknown ids, longest first
    readonly int[] _userDefined;          // the user-defined ones among them (not also control/unknown), same order

    /// <param name="texts">texts[id]: token text, never empty.</param>
    /// <param name="attributes">attributes[id]: llama.cpp's load-time attributes.</param>
    public SpecialTokenSplitter(string[] texts, TokenAttributes[] attributes)
    {
        _texts = texts;
        _attributes = attributes;
        const TokenAttributes special = TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown;
        // llama.cpp sorts by byte length with an unstable sort; ties keep id order here, which
        // only matters for two equal-length special texts that overlap in the input.
        _all = [.. Enumerable.Range(0, texts.Length)
            .Where(id => (attributes[id] & special) != 0)
            .Select(id => (Id: id, Bytes: Encoding.UTF8.GetByteCount(texts[id])))
            .OrderByDescending(t => t.Bytes).ThenBy(t => t.Id)
            .Select(t => t.Id)];
        _userDefined = [.. _all.Where(id => (attributes[id] & (TokenAttributes.Control | TokenAttributes.Unknown)) == 0)];
    }

    /// <param name="text">The input (valid UTF-16).</param>
    /// <param name="parseSpecial">Split out control and unknown tokens too.</param>
    /// <returns>Fragments in text order; plain runs are never empty.</returns>
    public List<TextFragment> Split(string text, bool parseSpecial)
    {
        var fragments = new List<TextFragment>();
        if (text.Length == 0)
            return fragments;
        fragments.Add(TextFragment.Text(0, text.Length));
        var next = new List<TextFragment>();

        foreach (int id in parseSpecial ? _all : _userDefined)
        {
            string special = _texts[id];
            // Most special tokens never occur: one vectorized search over the text settles it.
            if (!text.Contains(special, StringComparison.Ordinal))
                continue;
            bool lstrip = (_attributes[id] & TokenAttributes.LStrip) != 0;
            bool rstrip = (_attributes[id] & TokenAttributes.RStrip) != 0;

            next.Clear();
            foreach (var fragment in fragments)
            {
                if (fragment.IsToken)
                {
                    next.Add(fragment);
                    continue;
                }
                int start = fragment.Start;
                int end = fragment.Start + fragment.Length;
                while (true)
                {
                    int match = text.IndexOf(special, start, end - start, StringComparison.Ordinal);
                    if (match < 0)
                    {
                        if (end > start)
                            next.Add(TextFragment.Text(start, end - start));
                        break;
                    }
                    int leftEnd = match;
                    if (lstrip)
                    {
                        while (leftEnd > start && IsCSpace(text[leftEnd - 1]))
                            leftEnd--;
                    }
                    if (leftEnd > start)
                        next.Add(TextFragment.Text(start, leftEnd - start));
                    next.Add(TextFragment.Special(id));
                    start = match + special.Length;
                    if (rstrip)
                    {
                        while (start < end && IsCSpace(text[start]))
                            start++;
                    }
                }
            }
            (fragments, next) = (next, fragments);
        }
        return fragments;
    }

    // C's isspace in the "C" locale, which llama.cpp applies byte by byte: non-ASCII is never space.
    static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}
