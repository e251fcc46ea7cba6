using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;

namespace LlCuda.Tokenizers;

/// <summary>
/// Byte-level BPE for "gpt2" vocabularies (GPT-2, Llama 3, Qwen, DeepSeek, Falcon, StarCoder...),
/// giving the ids llama.cpp's llm_tokenizer_bpe_session gives: the text is split into words by
/// the pre-tokenizer named by tokenizer.ggml.pre (<see cref="PreTokenizer"/>), each word's UTF-8
/// bytes are merged pairwise, lowest merge rank first (ties: leftmost), and each final symbol is
/// looked up in the vocabulary.
///
/// llama.cpp details kept on purpose: with ignore_merges (Llama 3) a word that is itself a token
/// is taken whole; a merged symbol missing from the vocabulary falls back to one token per byte of
/// its byte-level text, which only exists for the printable ASCII bytes '!'..'~' (the others are
/// dropped, as llama.cpp drops them).
///
/// Microsoft.ML.Tokenizers 2.0.1 is not used: its pre-tokenizers are .NET regexes (UTF-16 code
/// units, Unicode 16.0 categories) rather than llama.cpp's scanners and Unicode 15.1 tables, and
/// it has neither llama.cpp's missing-merge fallback nor per-pre-type rules, so ids can differ.
/// </summary>
internal sealed class BpeModel : ITokenizerModel
{
    // Words of up to this many UTF-16 units have their ids cached (text repeats words a lot); the
    // cache is emptied when it reaches CacheCapacity entries so memory stays bounded.
    const int MaxCachedWordLength = 64;
    const int CacheCapacity = 1 << 17;
    // Words of up to this many bytes merge by rescanning pair ranks, longer ones through a heap.
    const int ShortWordBytes = 48;

    readonly Vocabulary _vocab;
    readonly PreTokenizer _pre;
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _tokenIds;
    readonly int _tokenCount;

    // BPE works on "symbols": every string the merges can build. A symbol that is a token has the
    // token's id; the others (merge parts or results missing from the vocabulary) get ids from
    // _tokenCount up, so a merge is a lookup of two ints.
    readonly MergeTable _merges;
    readonly int[] _byteSymbols = new int[256];
    // [128] the token whose text is that single ASCII char, or -1 (missing-merge fallback).
    readonly int[] _asciiTokens = new int[128];

    readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;
    int _cacheCount;

    [ThreadStatic] static Scratch? t_scratch;

    /// <summary>A pair of adjacent symbols (indices into the word) that a merge applies to.</summary>
    readonly record struct Bigram(int Left, int Right, int Result, int Size);

    /// <exception cref="NotSupportedException">The vocabulary's pre-tokenizer is not implemented.</exception>
    public BpeModel(Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Model != "gpt2")
            throw new ArgumentException($"BpeModel needs a byte-level BPE vocabulary (tokenizer.ggml.model 'gpt2'), got '{vocabulary.Model}'", nameof(vocabulary));
        _vocab = vocabulary;
        _pre = PreTokenizer.For(vocabulary.Pre);
        _tokenIds = vocabulary.SpanLookup;
        _tokenCount = vocabulary.Count;
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();

        var extraSymbols = new Dictionary<string, int>(StringComparer.Ordinal);
        var extraLookup = extraSymbols.GetAlternateLookup<ReadOnlySpan<char>>();
        int Intern(ReadOnlySpan<char> text)
        {
            if (_tokenIds.TryGetValue(text, out int id) || extraLookup.TryGetValue(text, out id)) return id;
            id = _tokenCount + extraSymbols.Count;
            extraLookup[text] = id;
            return id;
        }

        Span<char> one = stackalloc char[1];
        for (int b = 0; b < 256; b++)
        {
            one[0] = ByteLevel.Encode((byte)b);
            _byteSymbols[b] = Intern(one);
        }
        for (int c = 0; c < 128; c++)
        {
            one[0] = (char)c;
            _asciiTokens[c] = _tokenIds.TryGetValue(one, out int id) ? id : -1;
        }

        // llama.cpp splits each merge line at the first space after its first character and
        // keeps the first rank of a repeated pair.
        var merges = vocabulary.Merges;
        _merges = new MergeTable(merges.Count);
        char[] joined = new char[64];
        for (int rank = 0; rank < merges.Count; rank++)
        {
            string line = merges[rank];
            int space = line.Length > 1 ? line.IndexOf(' ', 1) : -1;
            if (space < 0 || space == line.Length - 1) continue;   // no pair: can never apply
            var left = line.AsSpan(0, space);
            var right = line.AsSpan(space + 1);
            if (joined.Length < line.Length) joined = new char[line.Length * 2];
            left.CopyTo(joined);
            right.CopyTo(joined.AsSpan(left.Length));
            int result = Intern(joined.AsSpan(0, left.Length + right.Length));
            _merges.TryAdd(Intern(left), Intern(right), rank, result);
        }
    }

    /// <summary>The pre-tokenizer in use (from tokenizer.ggml.pre).</summary>
    internal PreTokenizer PreTokenizer => _pre;

    /// <inheritdoc/>
    public void Encode(string text, List<int> output)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(output);
        if (text.Length == 0) return;

        var s = t_scratch ??= new Scratch();
        s.EnsureText(text.Length);
        int n = UnicodeClasses.Decode(text, s.Codepoints, s.CharStarts);
        var cps = s.Codepoints.AsSpan(0, n);
        var flags = s.Flags.AsSpan(0, n);
        for (int i = 0; i < n; i++) flags[i] = UnicodeClasses.Of(cps[i]);
        _pre.Split(cps, flags, s.WordEnds, s.SpareEnds);

        int start = 0;
        foreach (int end in s.WordEnds)
        {
            int from = s.CharStarts[start], to = s.CharStarts[end];
            var word = text.AsSpan(from, to - from);
            start = end;
            if (_cacheLookup.TryGetValue(word, out var cached)) { output.AddRange(cached); continue; }

            int before = output.Count;
            EncodeWord(word, s, output);
            if (word.Length <= MaxCachedWordLength)
            {
                // ConcurrentDictionary.Count takes every lock, so the size is counted here.
                if (Volatile.Read(ref _cacheCount) >= CacheCapacity) { _cache.Clear(); Volatile.Write(ref _cacheCount, 0); }
                if (_cacheLookup.TryAdd(word, CollectionsMarshal.AsSpan(output)[before..].ToArray())) Interlocked.Increment(ref _cacheCount);
            }
        }
        s.ReleaseIfLarge();
    }

    void EncodeWord(ReadOnlySpan<char> word, Scratch s, List<int> output)
    {
        // Lone surrogates become EF BF BD, as in the UTF-8 llama.cpp is given.
        int n = Encoding.UTF8.GetByteCount(word);
        s.EnsureWord(n);
        var bytes = s.Bytes.AsSpan(0, n);
        Encoding.UTF8.GetBytes(word, bytes);

        if (_pre.IgnoreMerges)
        {
            var chars = s.Chars.AsSpan(0, n);
            ByteLevel.Encode(bytes, chars);
            if (_tokenIds.TryGetValue(chars, out int whole)) { output.Add(whole); return; }
        }

        // One symbol per byte in a doubly linked list; merging moves the right symbol into the
        // left one, so index 0 always heads the list.
        int[] sym = s.Symbols, len = s.Lengths, prev = s.Prev, next = s.Next;
        for (int i = 0; i < n; i++)
        {
            sym[i] = _byteSymbols[bytes[i]];
            len[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        if (n <= ShortWordBytes) MergeShortWord(s);
        else MergeLongWord(s, n);

        for (int i = 0; i >= 0; i = next[i])
        {
            if (sym[i] < _tokenCount) { output.Add(sym[i]); continue; }
            for (int j = i; j < i + len[i]; j++)
            {
                // Only '!'..'~' are their own byte-level character with a one-byte UTF-8 form.
                byte b = bytes[j];
                if (b is >= 0x21 and <= 0x7E && _asciiTokens[b] >= 0) output.Add(_asciiTokens[b]);
            }
        }
    }

    // Both merge loops apply, until none is left, the merge of lowest rank among adjacent symbol
    // pairs, the leftmost pair on a tie: what llama.cpp's priority queue of bigrams does.

    /// <summary>
    /// Short words (most of them): a rank per adjacent pair, rescanned after each merge. O(n²)
    /// but without a heap; with the word cache off it encoded English text (Vim's help files)
    /// 1.2-1.5x faster than the heap.
    /// </summary>
    void MergeShortWord(Scratch s)
    {
        int[] sym = s.Symbols, len = s.Lengths, prev = s.Prev, next = s.Next, pairRank = s.PairRanks, pairResult = s.PairResults;
        for (int i = 0; next[i] >= 0; i = next[i]) RankPair(sym, next, pairRank, pairResult, i);
        while (true)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; next[i] >= 0; i = next[i])
                if (pairRank[i] < bestRank) { bestRank = pairRank[i]; best = i; }
            if (best < 0) return;
            int r = next[best];
            sym[best] = pairResult[best];
            len[best] += len[r];
            len[r] = 0;
            next[best] = next[r];
            if (next[r] >= 0) prev[next[r]] = best;
            RankPair(sym, next, pairRank, pairResult, best);
            if (prev[best] >= 0) RankPair(sym, next, pairRank, pairResult, prev[best]);
        }
    }

    void RankPair(int[] sym, int[] next, int[] pairRank, int[] pairResult, int left)
    {
        if (next[left] < 0 || !_merges.TryGet(sym[left], sym[next[left]], out pairRank[left], out pairResult[left]))
            pairRank[left] = int.MaxValue;
    }

    /// <summary>Long words (runs of spaces, base64...): llama.cpp's priority queue, O(n log n).</summary>
    void MergeLongWord(Scratch s, int n)
    {
        int[] sym = s.Symbols, len = s.Lengths, prev = s.Prev, next = s.Next;
        var queue = s.Queue;
        queue.Clear();
        for (int i = 1; i < n; i++) TryQueue(queue, sym, len, i - 1, i);
        while (queue.TryDequeue(out var bigram, out _))
        {
            int l = bigram.Left, r = bigram.Right;
            // Stale when either side was merged since: a symbol only changes by growing.
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != bigram.Size) continue;
            sym[l] = bigram.Result;
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            if (prev[l] >= 0) TryQueue(queue, sym, len, prev[l], l);
            if (next[l] >= 0) TryQueue(queue, sym, len, l, next[l]);
        }
    }

    void TryQueue(PriorityQueue<Bigram, long> queue, int[] sym, int[] len, int left, int right)
    {
        if (!_merges.TryGet(sym[left], sym[right], out int rank, out int result)) return;
        // Lowest rank first, then leftmost (llama.cpp's llm_bigram_bpe comparator).
        queue.Enqueue(new Bigram(left, right, result, len[left] + len[right]), ((long)rank << 32) | (uint)left);
    }

    /// <inheritdoc/>
    public void AppendTokenBytes(int id, List<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if ((uint)id >= (uint)_tokenCount)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the vocabulary (0..{_tokenCount - 1})");
        var attributes = _vocab.Attributes(id);
        string text = _vocab.Tokens[id];
        // As llama.cpp's token_to_piece with special = true: special and user-defined tokens are
        // their text, normal tokens are byte-level decoded, byte tokens "<0xXX>" are one byte,
        // unused and undefined tokens are nothing.
        if ((attributes & (TokenAttributes.Unknown | TokenAttributes.Control | TokenAttributes.UserDefined)) != 0)
            output.AddRange(Encoding.UTF8.GetBytes(text));
        else if ((attributes & TokenAttributes.Normal) != 0)
            AppendByteLevelDecoded(text, output);
        else if ((attributes & TokenAttributes.Byte) != 0 && text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal)
                 && byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
            output.Add(b);
    }

    static void AppendByteLevelDecoded(string text, List<byte> output)
    {
        for (int i = 0; i < text.Length; i++)
        {
            int b = ByteLevel.Decode(text[i]);
            if (b >= 0) { output.Add((byte)b); continue; }
            // A character outside the byte-level alphabet: llama.cpp writes a marker naming its
            // UTF-8 bytes and the whole token text.
            int width = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            var marker = new StringBuilder("[UNK_BYTE_0x");
            foreach (byte u in Encoding.UTF8.GetBytes(text.Substring(i, width))) marker.Append(u.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            marker.Append(text).Append(']');
            output.AddRange(Encoding.UTF8.GetBytes(marker.ToString()));
            i += width - 1;
        }
    }

    /// <summary>Per-thread buffers, so encoding allocates nothing per word after warm-up.</summary>
    sealed class Scratch
    {
        // Buffers above this many elements are dropped after a call instead of kept per thread.
        const int KeepLimit = 1 << 20;

        public int[] Codepoints = [];          // [text length] code points
        public int[] CharStarts = [];          // [text length + 1] UTF-16 offset of each code point
        public CodepointFlags[] Flags = [];    // [text length]
        public readonly List<int> WordEnds = [];
        public readonly List<int> SpareEnds = [];
        public byte[] Bytes = [];              // [word bytes] UTF-8 of the word
        public char[] Chars = [];              // [word bytes] byte-level text of the word
        public int[] Symbols = [], Lengths = [], Prev = [], Next = [];   // [word bytes] the symbol list
        public int[] PairRanks = [], PairResults = [];                   // [word bytes] merge of (i, next[i])
        public readonly PriorityQueue<Bigram, long> Queue = new();

        public void EnsureText(int chars)
        {
            if (Codepoints.Length >= chars) return;
            int size = Math.Max(chars, 256);
            Codepoints = new int[size];
            CharStarts = new int[size + 1];
            Flags = new CodepointFlags[size];
        }

        public void EnsureWord(int bytes)
        {
            if (Bytes.Length >= bytes) return;
            int size = Math.Max(bytes, 64);
            Bytes = new byte[size];
            Chars = new char[size];
            Symbols = new int[size];
            Lengths = new int[size];
            Prev = new int[size];
            Next = new int[size];
            PairRanks = new int[size];
            PairResults = new int[size];
        }

        public void ReleaseIfLarge()
        {
            if (Codepoints.Length > KeepLimit) { Codepoints = []; CharStarts = []; Flags = []; WordEnds.Clear(); WordEnds.TrimExcess(); SpareEnds.Clear(); SpareEnds.TrimExcess(); }
            if (Bytes.Length > KeepLimit) { Bytes = []; Chars = []; Symbols = []; Lengths = []; Prev = []; Next = []; PairRanks = []; PairResults = []; }
        }
    }
}
