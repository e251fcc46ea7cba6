using System.Text;

namespace LlCuda.Tokenizers;

public sealed partial class Tokenizer
{
    /// <summary>
    /// The bytes one token stands for, as llama.cpp's llama_token_to_piece(id, lstrip: 0, special):
    /// byte tokens give their byte, ▁ becomes a space, control and unknown tokens give nothing
    /// unless <paramref name="special"/> (then their text), user-defined tokens always give their text.
    /// A piece may be part of a UTF-8 character: join pieces before decoding, or use <see cref="StreamingDecoder"/>.
    /// </summary>
    public byte[] TokenToPiece(int id, bool special = false)
    {
        CheckId(id);
        return IsHidden(id, special) ? [] : (byte[])_pieces[id].Clone();
    }

    /// <summary>
    /// The text of a token sequence, as llama.cpp's llama_detokenize: see <see cref="DecodeToUtf8"/>.
    /// Invalid UTF-8 (e.g. a sequence cut inside a character) decodes to U+FFFD.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool removeSpecial = false, bool unparseSpecial = false) =>
        Encoding.UTF8.GetString(DecodeToUtf8(ids, removeSpecial, unparseSpecial));

    /// <summary>
    /// The bytes of a token sequence, as llama.cpp's llama_detokenize(ids, remove_special, unparse_special).
    /// With a space-prefix vocabulary (SPM) the first token loses one leading space, undoing the
    /// space Encode added, except when <paramref name="removeSpecial"/> drops a leading BOS (llama.cpp
    /// keeps the space then). If the first token is a BOS that stays, it consumes that removal and
    /// prints nothing, so the text keeps its leading space.
    /// </summary>
    /// <param name="ids">Token ids; each must be in 0..Count-1.</param>
    /// <param name="removeSpecial">Drop a leading BOS and a trailing EOS where the vocabulary adds them.</param>
    /// <param name="unparseSpecial">Print control and unknown tokens as their text.</param>
    public byte[] DecodeToUtf8(IEnumerable<int> ids, bool removeSpecial = false, bool unparseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        int[] tokens = ids as int[] ?? [.. ids];
        int start = 0;
        int end = tokens.Length;
        bool removeSpace = Vocabulary.AddSpacePrefix;
        if (removeSpecial && Vocabulary.AddBos && end > 0 && tokens[0] == Vocabulary.Bos)
        {
            removeSpace = false;
            start = 1;
        }
        if (removeSpecial && Vocabulary.AddEos && end > start && tokens[end - 1] == Vocabulary.Eos)
            end--;

        var output = new List<byte>(tokens.Length * 4);
        for (int i = start; i < end; i++)
        {
            int id = tokens[i];
            CheckId(id);
            if (!IsHidden(id, unparseSpecial))
            {
                byte[] piece = _pieces[id];
                int skip = removeSpace && piece.Length > 0 && piece[0] == (byte)' ' ? 1 : 0;
                output.AddRange(piece.AsSpan(skip));
            }
            removeSpace = false;
        }
        return _cleanSpaces ? CleanUpSpaces(output) : [.. output];
    }

    bool IsHidden(int id, bool special) =>
        !special && (_attributes[id] & (TokenAttributes.Unknown | TokenAttributes.Control)) != 0;

    /// <summary>
    /// llama.cpp's clean_up_tokenization_spaces (BPE vocabularies): drops the space in " ?", " !",
    /// " .", " ,", both spaces around a lone " ' ", and the space in " 's", " 'm", " 're", " 've".
    /// Three passes over bytes, each reading the previous pass's output, as llama.cpp does.
    /// </summary>
    internal static byte[] CleanUpSpaces(List<byte> input)
    {
        byte[] text = [.. input];
        int n = text.Length;
        if (n == 0)
            return text;

        // Pass 1: " ?" " !" " ." " ," lose the space.
        var pass = new List<byte>(n) { text[0] };
        for (int i = 1; i < n; i++)
        {
            byte x = text[i];
            if (text[i - 1] == ' ' && x is (byte)'?' or (byte)'!' or (byte)'.' or (byte)',')
                pass.RemoveAt(pass.Count - 1);
            pass.Add(x);
        }

        // Pass 2: " ' " becomes "'". The space after it is blanked in place, so it no longer
        // counts as a space before the next character (llama.cpp writes a NUL there).
        text = [.. pass];
        n = text.Length;
        pass = new List<byte>(n) { text[0] };
        for (int i = 1; i < n; i++)
        {
            byte x = text[i];
            if (x == '\'' && i + 1 < n && text[i - 1] == ' ' && text[i + 1] == ' ')
            {
                pass.RemoveAt(pass.Count - 1);
                text[++i] = 0;
            }
            pass.Add(x);
        }

        // Pass 3: contractions " 's" " 'm" " 're" " 've" lose the space (" 't" " 'd" " 'll" keep it).
        text = [.. pass];
        n = text.Length;
        pass = new List<byte>(n) { text[0] };
        for (int i = 1; i < n; i++)
        {
            byte x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < n)
            {
                byte x1 = text[i + 1];
                if (x1 is (byte)'s' or (byte)'m')
                    pass.RemoveAt(pass.Count - 1);
                else if (x1 is not ((byte)'t' or (byte)'d') && i + 2 < n)
                {
                    byte x2 = text[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e'))
                        pass.RemoveAt(pass.Count - 1);
                }
            }
            pass.Add(x);
        }
        return [.. pass];
    }
}
