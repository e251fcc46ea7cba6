namespace LlCuda.Tokenizers;

/// <summary>A test on one code point (value and <see cref="UnicodeClasses"/> flags).</summary>
internal delegate bool CodepointPredicate(int codepoint, CodepointFlags flags);

/// <summary>
/// One regex of a pre-tokenizer: cuts the piece [start, end) of the text into its matches and
/// the gaps between them (llama.cpp keeps both), appending each part's end index. A pass sees
/// only its piece: lookaheads and "$" stop at <c>end</c>, as std::regex_iterator does on a range.
/// </summary>
internal abstract class SplitPass
{
    /// <param name="cps">[n] code points of the whole text.</param>
    /// <param name="flags">[n] their flags.</param>
    public abstract void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int start, int end, List<int> ends);

    /// <summary>Flags at <paramref name="p"/>; past the piece's end, none (llama.cpp's out-of-range).</summary>
    protected static CodepointFlags At(ReadOnlySpan<CodepointFlags> flags, int p, int end) => p < end ? flags[p] : CodepointFlags.None;

    /// <summary>Code point at <paramref name="p"/>; past the piece's end, -1.</summary>
    protected static int At(ReadOnlySpan<int> cps, int p, int end) => p < end ? cps[p] : -1;
}

/// <summary>
/// GPT-2's pattern <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)</c>,
/// following llama.cpp's hand-written scanner (unicode_regex_split_custom_gpt2) branch for
/// branch, including what it does where the regex would leave a gap (a lone whitespace before a
/// non-space becomes its own word).
/// </summary>
internal sealed class Gpt2Pass : SplitPass
{
    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int start, int end, List<int> ends)
    {
        const CodepointFlags WordClasses = CodepointFlags.Whitespace | CodepointFlags.Letter | CodepointFlags.Number;

        int pos = start;
        while (pos < end)
        {
            int cpt = cps[pos];
            var f = flags[pos];

            // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive)
            if (cpt == '\'' && pos + 1 < end)
            {
                int next = cps[pos + 1];
                if (next is 's' or 't' or 'm' or 'd') { pos += 2; ends.Add(pos); continue; }
                if (pos + 2 < end)
                {
                    int next2 = cps[pos + 2];
                    if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
                    {
                        pos += 3; ends.Add(pos); continue;
                    }
                }
            }

            // " ?" before a letter/number/other run: the class is decided by the char after the space.
            var f2 = cpt == ' ' ? At(flags, pos + 1, end) : f;
            int afterSpace = pos + (cpt == ' ' ? 1 : 0);
            if ((f2 & CodepointFlags.Letter) != 0)          // ?\p{L}+
            {
                pos = afterSpace + 1;
                while ((At(flags, pos, end) & CodepointFlags.Letter) != 0) pos++;
                ends.Add(pos); continue;
            }
            if ((f2 & CodepointFlags.Number) != 0)          // ?\p{N}+
            {
                pos = afterSpace + 1;
                while ((At(flags, pos, end) & CodepointFlags.Number) != 0) pos++;
                ends.Add(pos); continue;
            }
            if ((f2 & WordClasses) == 0 && f2 != CodepointFlags.None)   // ?[^\s\p{L}\p{N}]+
            {
                pos = afterSpace + 1;
                while ((At(flags, pos, end) & WordClasses) == 0 && At(flags, pos, end) != CodepointFlags.None) pos++;
                ends.Add(pos); continue;
            }

            int spaces = 0;
            while ((At(flags, pos + spaces, end) & CodepointFlags.Whitespace) != 0) spaces++;
            if (spaces > 1 && pos + spaces < end)           // \s+(?!\S): leave the last one to the next word
            {
                pos += spaces - 1; ends.Add(pos); continue;
            }
            if (spaces > 0)                                 // \s+
            {
                pos += spaces; ends.Add(pos); continue;
            }
            ends.Add(++pos);                                // no branch matched: one code point
        }
    }
}

/// <summary>
/// Llama 3's pattern
/// <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>
/// after llama.cpp's scanner (unicode_regex_split_custom_llama3), with the digit-group length as
/// a parameter: 3 for Llama 3, 1 for Qwen 2 (whose regex has \p{N} in place of \p{N}{1,3}).
/// The case-insensitive contractions compare ASCII only: no other code point lowercases to
/// s, t, r, e, v, m, l or d (checked over all of Unicode).
/// </summary>
internal sealed class Llama3Pass(int maxDigits) : SplitPass
{
    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int start, int end, List<int> ends)
    {
        static int Lower(int c) => c is >= 'A' and <= 'Z' ? c + 32 : c;
        const CodepointFlags WordClasses = CodepointFlags.Whitespace | CodepointFlags.Letter | CodepointFlags.Number;

        int pos = start;
        while (pos < end)
        {
            int cpt = cps[pos];
            var f = flags[pos];

            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if (cpt == '\'' && pos + 1 < end)
            {
                int next = Lower(cps[pos + 1]);
                if (next is 's' or 't' or 'm' or 'd') { pos += 2; ends.Add(pos); continue; }
                if (pos + 2 < end)
                {
                    int next2 = Lower(cps[pos + 2]);
                    if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
                    {
                        pos += 3; ends.Add(pos); continue;
                    }
                }
            }

            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (!(cpt == '\r' || cpt == '\n' || (f & CodepointFlags.Number) != 0)
                && ((f & CodepointFlags.Letter) != 0 || (At(flags, pos + 1, end) & CodepointFlags.Letter) != 0))
            {
                pos++;
                while ((At(flags, pos, end) & CodepointFlags.Letter) != 0) pos++;
                ends.Add(pos); continue;
            }

            // \p{N}{1,maxDigits}
            if ((f & CodepointFlags.Number) != 0)
            {
                int groupStart = pos;
                while ((At(flags, pos, end) & CodepointFlags.Number) != 0)
                {
                    if (++pos - groupStart >= maxDigits) { ends.Add(pos); groupStart = pos; }
                }
                if (pos > groupStart) ends.Add(pos);
                continue;
            }

            //  ?[^\s\p{L}\p{N}]+[\r\n]*   (llama.cpp tests the first char's own flags for "in range";
            // inside the piece they are never None, so only the class test matters)
            var f2 = cpt == ' ' ? At(flags, pos + 1, end) : f;
            if ((f2 & WordClasses) == 0)
            {
                if (cpt == ' ') pos++;
                while ((At(flags, pos, end) & WordClasses) == 0 && At(flags, pos, end) != CodepointFlags.None) pos++;
                while (At(cps, pos, end) is '\r' or '\n') pos++;
                ends.Add(pos); continue;
            }

            int spaces = 0, afterLastNewline = 0;
            while ((At(flags, pos + spaces, end) & CodepointFlags.Whitespace) != 0)
            {
                if (cps[pos + spaces] is '\r' or '\n') afterLastNewline = pos + spaces + 1;
                spaces++;
            }
            if (afterLastNewline > 0)                       // \s*[\r\n]+
            {
                pos = afterLastNewline; ends.Add(pos); continue;
            }
            if (spaces > 1 && pos + spaces < end)           // \s+(?!\S)
            {
                pos += spaces - 1; ends.Add(pos); continue;
            }
            if (spaces > 0)                                 // \s+
            {
                pos += spaces; ends.Add(pos); continue;
            }
            ends.Add(++pos);
        }
    }
}

/// <summary>
/// <c>P?X+</c> (or <c>X+</c> when <paramref name="prefix"/> is null) found left to right as
/// std::regex_iterator does: at the first position where a match starts, the optional prefix
/// is taken when a run follows it; the gaps between matches are kept as words.
/// </summary>
internal sealed class RunPass(CodepointPredicate? prefix, CodepointPredicate run) : SplitPass
{
    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int start, int end, List<int> ends)
    {
        int gapStart = start;
        int p = start;
        while (p < end)
        {
            int runStart;
            if (prefix is not null && p + 1 < end && prefix(cps[p], flags[p]) && run(cps[p + 1], flags[p + 1])) runStart = p + 1;
            else if (run(cps[p], flags[p])) runStart = p;
            else { p++; continue; }

            int q = runStart + 1;
            while (q < end && run(cps[q], flags[q])) q++;
            if (p > gapStart) ends.Add(p);
            ends.Add(q);
            gapStart = p = q;
        }
        if (end > gapStart) ends.Add(end);
    }
}

/// <summary><c>X</c>: every code point of the class is a word of its own; the gaps are kept.</summary>
internal sealed class SinglePass(CodepointPredicate match) : SplitPass
{
    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int start, int end, List<int> ends)
    {
        int gapStart = start;
        for (int p = start; p < end; p++)
        {
            if (!match(cps[p], flags[p])) continue;
            if (p > gapStart) ends.Add(p);
            ends.Add(p + 1);
            gapStart = p + 1;
        }
        if (end > gapStart) ends.Add(end);
    }
}

/// <summary><c>[0-9][0-9][0-9]</c>: ASCII digits in threes from the left; the gaps are kept.</summary>
internal sealed class DigitTriplesPass : SplitPass
{
    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int start, int end, List<int> ends)
    {
        static bool D(int c) => c is >= '0' and <= '9';
        int gapStart = start;
        int p = start;
        while (p + 2 < end)
        {
            if (D(cps[p]) && D(cps[p + 1]) && D(cps[p + 2]))
            {
                if (p > gapStart) ends.Add(p);
                ends.Add(p + 3);
                gapStart = p += 3;
            }
            else p++;
        }
        if (end > gapStart) ends.Add(end);
    }
}

/// <summary><c>\s+$</c>: the whitespace that ends the piece, if any, becomes a word of its own.</summary>
internal sealed class TrailingWhitespacePass : SplitPass
{
    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int start, int end, List<int> ends)
    {
        int q = end;
        while (q > start && (flags[q - 1] & CodepointFlags.Whitespace) != 0) q--;
        if (q > start && q < end) ends.Add(q);
        ends.Add(end);
    }
}
