using System.Text;

namespace LlCuda.Tokenizers;

/// <summary>
/// Turns generated ids into text as they arrive. A token may hold part of a UTF-8 character (byte
/// tokens: "é" is &lt;0xC3&gt;&lt;0xA9&gt;; BPE tokens cut CJK and emoji anywhere), so bytes wait here
/// until their character is complete: <see cref="Add"/> never returns half a character, and
/// the concatenation of everything returned equals decoding all the bytes at once.
/// Each token prints as llama.cpp's token_to_piece (no leading-space removal: a streamed
/// continuation keeps its spaces). Not thread-safe: one decoder per stream.
/// </summary>
public sealed class StreamingDecoder
{
    readonly Tokenizer _tokenizer;
    readonly bool _special;
    // Keeps an incomplete trailing sequence between calls; invalid bytes become U+FFFD.
    readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    char[] _chars = new char[64];

    /// <param name="tokenizer">The tokenizer whose ids are fed.</param>
    /// <param name="special">Print control and unknown tokens as their text (llama.cpp's special).</param>
    public StreamingDecoder(Tokenizer tokenizer, bool special = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _special = special;
    }

    /// <summary>Feeds one id; returns the text it completes (often empty while a character is incomplete).</summary>
    public string Add(int id) => Convert(_tokenizer.TokenToPiece(id, _special), flush: false);

    /// <summary>Ends the stream: returns what is left, an incomplete character as U+FFFD, and resets.</summary>
    public string Flush() => Convert([], flush: true);

    /// <summary>Drops any pending bytes, ready for a new stream.</summary>
    public void Reset() => _utf8.Reset();

    string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        int needed = _utf8.GetCharCount(bytes, flush: false) + 4; // + room for a flushed partial character
        if (_chars.Length < needed)
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        int count = _utf8.GetChars(bytes, _chars, flush);
        return count == 0 ? string.Empty : new string(_chars, 0, count);
    }
}
