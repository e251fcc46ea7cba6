using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace LlCuda.Tokenizers;

/// <summary>
/// SentencePiece-style BPE over token scores, exactly as llama.cpp's llm_tokenizer_spm does it
/// (src/llama-vocab.cpp): the text is cut into one symbol per code point; the adjacent pair whose
/// concatenation is a token with the highest score is merged first (ties: the leftmost pair), again
/// and again; a final symbol that is no token falls back to its UTF-8 bytes as &lt;0xXX&gt; tokens.
/// </summary>
/// <remarks>
/// Why not Microsoft.ML.Tokenizers' LlamaTokenizer: it is built from a sentencepiece .model protobuf
/// (a GGUF carries only the token, score and type arrays), and it has neither llama.cpp's special-token
/// splitting nor its space-prefix rule, which <see cref="Tokenizer"/> must reproduce id for id.
/// Works on UTF-16 text, not bytes: for valid text a code point is one symbol either way, and merges
/// compare symbol lengths only to detect stale pairs, for which any length unit serves.
/// Faster than llama.cpp's loop but with the same result: words are merged one by one where no
/// token can span two (and remembered), short words by a scan instead of a heap.
/// </remarks>
internal sealed class SpmModel : ITokenizerModel
{
    const char SpaceMarker = '\u2581'; // "▁": SentencePiece's visible space

    // Token text -> id for every token, whatever its type: llama.cpp's text_to_token sees them all.
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    // The same for texts of 1..4 chars, packed into a ulong key: most lookups are short pairs,
    // and an integer key hashes and compares in a few instructions where a string key costs a
    // hash over chars plus a string compare (English prose: 8 -> 10 MB/s on a shared 2-core box).
    readonly Dictionary<ulong, int>[] _shortIds; // [5]: index = length in chars (0 unused)
    readonly float[] _scores;      // [n_vocab] merge priority, higher first
    readonly int[] _byteTokens;    // [256] id of the token for byte b (<0xXX>, else the 1-char ASCII token), -1 if none
    readonly byte[][] _pieces;     // [n_vocab] UTF-8 of a normal token with ▁ as space, or the one byte of a byte token
    readonly int _unknown;         // used only where a vocabulary lacks byte tokens (llama.cpp aborts there)
    readonly bool _wordsAreIndependent; // no token holds a ▁ right after another character

    // Ids per word: a word's ids depend on its text alone and prose reuses few words a lot, so
    // merging is mostly skipped (the merge loop runs ~7 MB/s on English, a cached word is a
    // hash lookup). Bounded: once full, new words are still encoded, just not remembered.
    const int WordCacheCapacity = 1 << 16;
    const int MaxCachedWordLength = 32;
    readonly ConcurrentDictionary<string, int[]> _wordCache = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cachedWords;
    int _wordCacheCount; // counted here: ConcurrentDictionary.Count takes every lock

    public SpmModel(Vocabulary vocabulary)
    {
        int n = vocabulary.Count;
        _lookup = vocabulary.SpanLookup;
        _shortIds = [.. Enumerable.Range(0, 5).Select(_ => new Dictionary<ulong, int>())];
        _scores = new float[n];
        _pieces = new byte[n][];
        for (int id = 0; id < n; id++)
        {
            string text = vocabulary.Tokens[id];
            if (text.Length is > 0 and <= 4 && vocabulary.TryGetId(text, out int first) && first == id)
                _shortIds[text.Length][Pack(text)] = id;
            _scores[id] = vocabulary.Scores[id];
            _pieces[id] = vocabulary.Types[id] == TokenType.Byte && TryParseByteToken(text, out byte b)
                ? [b]
                : Encoding.UTF8.GetBytes(text.Replace(SpaceMarker, ' '));
        }

        _byteTokens = new int[256];
        for (int b = 0; b < 256; b++)
        {
            string hex = string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>");
            _byteTokens[b] = vocabulary.TryGetId(hex, out int id) ? id
                : b < 0x80 && vocabulary.TryGetId(((char)b).ToString(), out id) ? id
                : -1;
        }
        _unknown = vocabulary.Unk;
        _wordsAreIndependent = !vocabulary.Tokens.Any(HasSpaceAfterOther);
        _cachedWords = _wordCache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    static bool HasSpaceAfterOther(string token)
    {
        for (int i = 1; i < token.Length; i++)
        {
            if (token[i] == SpaceMarker && token[i - 1] != SpaceMarker)
                return true;
        }
        return false;
    }

    /// <inheritdoc/>
    public void Encode(string text, List<int> output) => Encode(text, addSpacePrefix: false, output);

    /// <summary>
    /// Appends the ids of <paramref name="text"/> (one raw fragment, no special-token text), after
    /// prefixing one space when <paramref name="addSpacePrefix"/> and turning every ' ' into ▁.
    /// </summary>
    public void Encode(ReadOnlySpan<char> text, bool addSpacePrefix, List<int> output)
    {
        int length = text.Length + (addSpacePrefix ? 1 : 0);
        if (length == 0)
            return;

        char[] buffer = ArrayPool<char>.Shared.Rent(length); // [length] escaped text
        var scratch = new Scratch();
        try
        {
            var escaped = buffer.AsSpan(0, length);
            if (addSpacePrefix)
                escaped[0] = ' ';
            text.CopyTo(escaped[(addSpacePrefix ? 1 : 0)..]);
            escaped.Replace(' ', SpaceMarker);

            if (!_wordsAreIndependent)
            {
                EncodeRun(escaped, ref scratch, output);
                return;
            }
            // Cut before each ▁ that follows another character: no token spans such a cut, so no
            // merge can cross it and each word merges on its own, in the same order as in one
            // pass. Small per-word heaps stay in cache; one heap over a whole text does not
            // (English prose: 0.5 -> 4.6 MB/s, before the short-key table and the word cache).
            int start = 0;
            for (int i = 1; i <= length; i++)
            {
                if (i == length || (escaped[i] == SpaceMarker && escaped[i - 1] != SpaceMarker))
                {
                    EncodeWord(escaped[start..i], ref scratch, output);
                    start = i;
                }
            }
        }
        finally
        {
            scratch.Return();
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    void EncodeWord(ReadOnlySpan<char> word, ref Scratch scratch, List<int> output)
    {
        if (word.Length > MaxCachedWordLength)
        {
            EncodeRun(word, ref scratch, output);
            return;
        }
        if (_cachedWords.TryGetValue(word, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }
        int first = output.Count;
        EncodeRun(word, ref scratch, output);
        if (Volatile.Read(ref _wordCacheCount) < WordCacheCapacity
            && _wordCache.TryAdd(word.ToString(), CollectionsMarshal.AsSpan(output)[first..].ToArray()))
            Interlocked.Increment(ref _wordCacheCount);
    }

    // Merges one run of escaped text the way llama.cpp does and appends its ids.
    void EncodeRun(ReadOnlySpan<char> text, ref Scratch scratch, List<int> output)
    {
        var symbols = scratch.Symbols(text.Length);
        int count = Split(text, symbols);
        if (count <= ScanLimit)
            MergeByScan(text, symbols, count);
        else
            MergeByQueue(text, symbols, count, ref scratch.Queue);

        // Every merged symbol is a token (pairs merge only when they are); llama.cpp's
        // resegment() therefore only ever looks a symbol up or spells it in bytes.
        for (int i = 0; i != -1; i = symbols[i].Next)
        {
            if (symbols[i].Token >= 0)
                output.Add(symbols[i].Token);
            else
                Emit(text.Slice(symbols[i].Start, symbols[i].Length), output);
        }
    }

    // Runs up to this many symbols merge by scanning all pairs for the best one instead of
    // keeping a heap: words are short, and a scan over a handful of cached pair scores beats
    // pushing and popping (English prose, merge loop alone: 7 -> 9.8 MB/s of CPU time on a shared 2-core box).
    const int ScanLimit = 32;

    // The pair llama.cpp's queue would pop next is the best current adjacent pair that is a
    // token: its valid entries are exactly those pairs. Scanning left to right and keeping only
    // a strictly higher score picks the leftmost of equals, as its tie-break does.
    void MergeByScan(ReadOnlySpan<char> text, Span<Symbol> symbols, int count)
    {
        for (int i = 0; i < count; i++)
            SetPair(text, symbols, i);
        while (true)
        {
            int best = -1;
            float bestScore = 0;
            for (int i = 0; i != -1; i = symbols[i].Next)
            {
                if (symbols[i].PairToken >= 0 && (best < 0 || symbols[i].PairScore > bestScore))
                {
                    best = i;
                    bestScore = symbols[i].PairScore;
                }
            }
            if (best < 0)
                return;

            ref var left = ref symbols[best];
            ref var right = ref symbols[left.Next];
            left.Length += right.Length;
            left.Token = left.PairToken;
            right.Length = 0;
            left.Next = right.Next;
            if (right.Next >= 0)
                symbols[right.Next].Prev = best;

            SetPair(text, symbols, best);
            if (left.Prev >= 0)
                SetPair(text, symbols, left.Prev);
        }
    }

    // The token (and its score) that symbol i would form with the next one, or PairToken -1.
    void SetPair(ReadOnlySpan<char> text, Span<Symbol> symbols, int i)
    {
        ref var symbol = ref symbols[i];
        symbol.PairToken = -1;
        if (symbol.Next < 0)
            return;
        int length = symbol.Length + symbols[symbol.Next].Length;
        if (TryGetId(text.Slice(symbol.Start, length), out int id))
        {
            symbol.PairToken = id;
            symbol.PairScore = _scores[id];
        }
    }

    // llama.cpp's merge loop as it is: a priority queue of candidate pairs, stale ones skipped.
    void MergeByQueue(ReadOnlySpan<char> text, Span<Symbol> symbols, int count, ref BigramQueue queue)
    {
        queue.Clear();
        for (int i = 1; i < count; i++)
            TryAddBigram(text, symbols, i - 1, i, ref queue);

        while (queue.TryPop(out var bigram))
        {
            ref var left = ref symbols[bigram.Left];
            ref var right = ref symbols[bigram.Right];
            // Stale: one side was merged away or grew since this pair was queued.
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Length)
                continue;

            left.Length += right.Length;
            left.Token = bigram.Token;
            right.Length = 0;
            left.Next = right.Next;
            if (right.Next >= 0)
                symbols[right.Next].Prev = bigram.Left;

            TryAddBigram(text, symbols, left.Prev, bigram.Left, ref queue);
            TryAddBigram(text, symbols, bigram.Left, left.Next, ref queue);
        }
    }

    /// <inheritdoc/>
    public void AppendTokenBytes(int id, List<byte> output) => output.AddRange(_pieces[id]);

    // One symbol per code point (a surrogate pair is one), chained left to right.
    static int Split(ReadOnlySpan<char> text, Span<Symbol> symbols)
    {
        int count = 0;
        for (int i = 0; i < text.Length;)
        {
            int width = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            symbols[count] = new Symbol { Prev = count - 1, Next = i + width == text.Length ? -1 : count + 1, Start = i, Length = width, Token = -1 };
            count++;
            i += width;
        }
        return count;
    }

    void TryAddBigram(ReadOnlySpan<char> text, Span<Symbol> symbols, int left, int right, ref BigramQueue queue)
    {
        if (left == -1 || right == -1)
            return;
        int length = symbols[left].Length + symbols[right].Length;
        if (!TryGetId(text.Slice(symbols[left].Start, length), out int id))
            return;
        queue.Push(new Bigram(left, right, _scores[id], length, id));
    }

    void Emit(ReadOnlySpan<char> symbol, List<int> output)
    {
        if (TryGetId(symbol, out int id))
        {
            output.Add(id);
            return;
        }
        Span<byte> utf8 = stackalloc byte[8];
        int n = Encoding.UTF8.GetBytes(symbol, utf8);
        for (int i = 0; i < n; i++)
        {
            int byteToken = _byteTokens[utf8[i]];
            if (byteToken < 0)
                byteToken = _unknown >= 0 ? _unknown : ThrowNoByteToken(utf8[i]);
            output.Add(byteToken);
        }
    }

    bool TryGetId(ReadOnlySpan<char> text, out int id) =>
        text.Length <= 4 ? _shortIds[text.Length].TryGetValue(Pack(text), out id) : _lookup.TryGetValue(text, out id);

    // 1..4 UTF-16 units -> 64 bits, 16 bits each (one dictionary per length keeps "\0a" apart from "a").
    static ulong Pack(ReadOnlySpan<char> text)
    {
        ulong key = 0;
        foreach (char c in text)
            key = (key << 16) | c;
        return key;
    }

    static bool TryParseByteToken(string text, out byte value)
    {
        value = 0;
        return text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
            && byte.TryParse(text.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    [DoesNotReturn]
    static int ThrowNoByteToken(byte b) => throw new InvalidOperationException(
        $"SPM vocabulary has no token for byte 0x{b:X2} (expected '<0x{b:X2}>') and no unknown token: " +
        "this text cannot be encoded with it (is the GGUF's tokenizer.ggml.tokens complete?)");

    // A run of text that is either one code point or a merged token; Length 0 once merged away.
    struct Symbol
    {
        public int Prev;
        public int Next;
        public int Start;  // char offset in the run
        public int Length; // chars
        public int Token;  // id once merged; -1 for a single code point, looked up at the end
        public int PairToken;    // scan merge only: token formed with the next symbol, -1 if none
        public float PairScore;  // scan merge only: its score
    }

    readonly record struct Bigram(int Left, int Right, float Score, int Length, int Token);

    // Buffers reused across the runs of one Encode call (pooled arrays, returned at the end).
    struct Scratch
    {
        Symbol[]? _symbols;
        public BigramQueue Queue;

        public Span<Symbol> Symbols(int length)
        {
            if (_symbols is null || _symbols.Length < length)
            {
                if (_symbols is not null)
                    ArrayPool<Symbol>.Shared.Return(_symbols);
                _symbols = ArrayPool<Symbol>.Shared.Rent(Math.Max(length, 64));
            }
            Queue.EnsureCreated();
            return _symbols;
        }

        public void Return()
        {
            if (_symbols is not null)
                ArrayPool<Symbol>.Shared.Return(_symbols);
            _symbols = null;
        }
    }

    /// <summary>
    /// Binary max-heap of candidate merges in llama.cpp's order: higher score first, then the
    /// pair further left. Stale entries are skipped on pop, as in llama.cpp, so the order among
    /// equal (score, left) entries never matters: at most one of them is still valid.
    /// </summary>
    struct BigramQueue
    {
        Bigram[] _items;
        int _count;

        public void EnsureCreated() => _items ??= new Bigram[64];

        public void Clear() => _count = 0;

        static bool Before(in Bigram a, in Bigram b) => a.Score > b.Score || (a.Score == b.Score && a.Left < b.Left);

        public void Push(Bigram item)
        {
            if (_count == _items.Length)
                Array.Resize(ref _items, _items.Length * 2);
            int i = _count++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (!Before(item, _items[parent]))
                    break;
                _items[i] = _items[parent];
                i = parent;
            }
            _items[i] = item;
        }

        public bool TryPop(out Bigram top)
        {
            if (_count == 0)
            {
                top = default;
                return false;
            }
            top = _items[0];
            var last = _items[--_count];
            int i = 0;
            while (true)
            {
                int child = 2 * i + 1;
                if (child >= _count)
                    break;
                if (child + 1 < _count && Before(_items[child + 1], _items[child]))
                    child++;
                if (!Before(_items[child], last))
                    break;
                _items[i] = _items[child];
                i = child;
            }
            _items[i] = last;
            return true;
        }
    }
}
