namespace LlCuda.Tokenizers;

/// <summary>
/// GPT-2's byte-level alphabet (bytes_to_unicode): every byte gets a printable code point so
/// that BPE merges and vocabulary entries are plain strings. Printable Latin-1 bytes ('!'..'~',
/// '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes (controls, space, DEL, NBSP,
/// soft hyphen...) take U+0100.. in byte order, so ' ' is 'Ġ' (U+0120) and '\n' is 'Ċ' (U+010A).
/// </summary>
internal static class ByteLevel
{
    /// <summary>[256] the code point (all below U+0144) that stands for each byte.</summary>
    static readonly char[] ByteToChar = BuildByteToChar();

    /// <summary>[0x144] the byte a byte-level code point stands for, or -1 for any other code point.</summary>
    static readonly short[] CharToByte = BuildCharToByte();

    /// <summary>The byte-level character of byte <paramref name="b"/>.</summary>
    public static char Encode(byte b) => ByteToChar[b];

    /// <summary>The byte that byte-level character <paramref name="c"/> stands for, or -1.</summary>
    public static int Decode(int c) => (uint)c < (uint)CharToByte.Length ? CharToByte[c] : -1;

    /// <summary>Writes the byte-level string of <paramref name="bytes"/>: one char per byte.</summary>
    public static void Encode(ReadOnlySpan<byte> bytes, Span<char> chars)
    {
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
    }

    static bool MapsToItself(int b) => b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) map[b] = MapsToItself(b) ? (char)b : (char)next++;
        return map;
    }

    static short[] BuildCharToByte()
    {
        var map = new short[0x144];
        Array.Fill(map, (short)-1);
        for (int b = 0; b < 256; b++) map[ByteToChar[b]] = (short)b;
        return map;
    }
}
