using LlCuda.Tokenizers;

namespace LlCuda.Engine;

/// <summary>
/// The text of one generation as its tokens arrive: detokenized without splitting a UTF-8
/// character, the SPM space prefix dropped from a text generated from BOS alone (as llama.cpp
/// prints it), and cut at the first stop string, never showing the start of a stop string
/// before it is known not to be one. Text goes to the sink as soon as it is final.
/// </summary>
public sealed class GeneratedText
{
    readonly StreamingDecoder _decoder;
    readonly StopStringFilter _filter;
    bool _stripLeadingSpace;

    /// <param name="sink">Receives each piece of final text, in order (may be null).</param>
    public GeneratedText(Tokenizer tokenizer, GenerationRequest request, Action<string>? sink)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(request);
        _decoder = new StreamingDecoder(tokenizer);
        _filter = new StopStringFilter(request.Stop, sink);
        // A text generated from BOS alone starts without the SPM space prefix, as llama.cpp's
        // detokenize gives it ("Once upon a time", not " Once upon a time"); a continuation keeps it.
        _stripLeadingSpace = tokenizer.Vocabulary.AddSpacePrefix && request.Prompt.Length == 0;
    }

    /// <summary>The text so far (cut before a stop string once one is reached).</summary>
    public string Text => _filter.Text;

    /// <summary>Adds a generated token; true when the text reached a stop string.</summary>
    public bool Add(int token)
    {
        string piece = _decoder.Add(token);
        if (_stripLeadingSpace && piece.Length > 0)
        {
            if (piece[0] == ' ') piece = piece[1..];
            _stripLeadingSpace = false;
        }
        return _filter.Add(piece);
    }

    /// <summary>Ends the text: flushes held-back bytes and text (unless a stop string ended it).</summary>
    public void Finish(bool stopped)
    {
        if (!stopped) _filter.Add(_decoder.Flush());
        _filter.Finish();
    }
}
