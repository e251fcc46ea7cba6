using System.Text;

namespace LlCuda.Engine;

/// <summary>
/// Passes text through unless it reaches a stop string; holds back a tail that could still
/// become one, so the caller never sees text that is later taken back.
/// </summary>
internal sealed class StopStringFilter(IReadOnlyList<string> stops, Action<string>? sink)
{
    readonly StringBuilder _all = new();
    int _emitted;
    bool _stopped;

    public string Text => _all.ToString();

    /// <summary>Adds text; true when a stop string was reached (text is cut before it).</summary>
    public bool Add(string piece)
    {
        if (_stopped || piece.Length == 0) return _stopped;
        _all.Append(piece);
        string text = _all.ToString();
        foreach (var stop in stops)
        {
            // Search from where a match could start that includes new text.
            int from = Math.Max(0, _emitted - stop.Length);
            int at = text.IndexOf(stop, from, StringComparison.Ordinal);
            if (at >= 0)
            {
                _all.Length = at;
                _stopped = true;
                Emit(at);
                return true;
            }
        }
        int hold = 0;
        foreach (var stop in stops)
            for (int k = Math.Min(stop.Length - 1, text.Length - _emitted); k > hold; k--)
                if (text.AsSpan(text.Length - k).SequenceEqual(stop.AsSpan(0, k))) { hold = k; break; }
        Emit(text.Length - hold);
        return false;
    }

    public void Finish() => Emit(_all.Length);

    void Emit(int upTo)
    {
        if (upTo <= _emitted) return;
        sink?.Invoke(_all.ToString(_emitted, upTo - _emitted));
        _emitted = upTo;
    }
}
