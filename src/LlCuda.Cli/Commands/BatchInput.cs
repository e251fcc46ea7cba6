using System.Globalization;
using System.Text.Json;
using LlCuda.Engine;

namespace LlCuda.Cli.Commands;

/// <summary>
/// A request id as the input gave it: <see cref="Json"/> is its JSON text, written back
/// unchanged so a number stays a number; <see cref="Key"/> compares ids ("7" the string and 7 the
/// number are different ids; 7 and 7.0 are the same).
/// </summary>
internal readonly record struct BatchId(string Key, string Json)
{
    /// <summary>The id of a JSON string or number; null for any other kind.</summary>
    public static BatchId? From(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => new BatchId("s:" + e.GetString(), e.GetRawText()),
        JsonValueKind.Number => new BatchId("n:" + (e.TryGetDecimal(out decimal d) ? (d / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture) : e.GetRawText()), e.GetRawText()),
        _ => null,
    };
}

/// <summary>One good input line: where it was, its id and the request it asks for.</summary>
internal sealed record BatchItem(int Line, BatchId Id, InferRequest Request);

/// <summary>
/// One line of the JSON Lines input: <c>{"id": ..., "prompt": "...", ...overrides}</c>, parsed
/// into a request on top of the command line's defaults. Every field is checked here, with a
/// message that names the field and what it must be; fields it does not know are ignored (so
/// lines may carry the caller's own metadata).
/// </summary>
internal static class BatchInput
{
    /// <summary>The per-line fields and what they override, for the help text and README.</summary>
    public const string FieldHelp = "max_tokens, temperature, top_k, top_p, min_p, repeat_penalty, frequency_penalty, presence_penalty, seed, stop (a string or an array of strings)";

    /// <summary>Parses <paramref name="line"/> (UTF-8, no newline); false with the reason when it is not a valid request.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> line, int number, InferRequest defaults, out BatchItem? item, out string error)
    {
        item = null;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e) { error = $"not valid JSON: {ShortMessage(e)}"; return false; }
        using (doc)
        {
            try { return TryRead(doc.RootElement, number, defaults, out item, out error); }
            catch (InvalidOperationException e) { error = $"not valid UTF-8 text ({e.Message})"; return false; }
        }
    }

    static bool TryRead(JsonElement root, int number, InferRequest defaults, out BatchItem? item, out string error)
    {
        item = null;
        error = "";
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = $"expected a JSON object like {{\"id\": 1, \"prompt\": \"...\"}}, found {Kind(root)}";
            return false;
        }
        BatchId? id = null;
        bool hasId = false;
        var r = defaults;
        string? prompt = null;
        foreach (var p in root.EnumerateObject())
        {
            var v = p.Value;
            switch (p.Name)
            {
                case "id":
                    hasId = true;
                    id = BatchId.From(v);
                    if (id is null) return Fail("\"id\" must be a string or a number", v, out error);
                    break;
                case "prompt":
                    if (v.ValueKind != JsonValueKind.String) return Fail("\"prompt\" must be a string", v, out error);
                    prompt = v.GetString();
                    break;
                case "max_tokens":
                    if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int max) || max < -1)
                        return Fail("\"max_tokens\" must be an integer >= -1 (-1 = until the context is full)", v, out error);
                    r = r with { MaxTokens = max };
                    break;
                case "temperature":
                    if (!Float(v, x => x >= 0, out float temp)) return Fail("\"temperature\" must be a number >= 0 (0 = greedy)", v, out error);
                    r = r with { Temperature = temp };
                    break;
                case "top_k":
                    if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int topK) || topK < 0)
                        return Fail("\"top_k\" must be an integer >= 0 (0 = off)", v, out error);
                    r = r with { TopK = topK };
                    break;
                case "top_p":
                    if (!Float(v, x => x is > 0 and <= 1, out float topP)) return Fail("\"top_p\" must be a number in (0, 1] (1 = off)", v, out error);
                    r = r with { TopP = topP };
                    break;
                case "min_p":
                    if (!Float(v, x => x is >= 0 and <= 1, out float minP)) return Fail("\"min_p\" must be a number in [0, 1] (0 = off)", v, out error);
                    r = r with { MinP = minP };
                    break;
                case "repeat_penalty":
                    if (!Float(v, x => x > 0, out float repeat)) return Fail("\"repeat_penalty\" must be a number > 0 (1 = off)", v, out error);
                    r = r with { RepeatPenalty = repeat };
                    break;
                case "frequency_penalty":
                    if (!Float(v, _ => true, out float frequency)) return Fail("\"frequency_penalty\" must be a number (0 = off)", v, out error);
                    r = r with { FrequencyPenalty = frequency };
                    break;
                case "presence_penalty":
                    if (!Float(v, _ => true, out float presence)) return Fail("\"presence_penalty\" must be a number (0 = off)", v, out error);
                    r = r with { PresencePenalty = presence };
                    break;
                case "seed":
                    if (v.ValueKind != JsonValueKind.Number || !v.TryGetUInt64(out ulong seed))
                        return Fail("\"seed\" must be an integer in 0..18446744073709551615", v, out error);
                    r = r with { Seed = seed };
                    break;
                case "stop":
                    if (!Stop(v, out var stop)) return Fail("\"stop\" must be a non-empty string or an array of non-empty strings", v, out error);
                    r = r with { Stop = stop };
                    break;
            }
        }
        if (!hasId)
        {
            error = "\"id\" is missing: every line needs a unique \"id\" (a string or a number) so its result can be found and the batch resumed";
            return false;
        }
        if (prompt is null)
        {
            error = "\"prompt\" is missing: every line needs a \"prompt\" string (\"\" = start from BOS alone)";
            return false;
        }
        r = r with { Id = id!.Value.Json, Prompt = prompt };
        try { r.ToGeneration(); }
        catch (ArgumentException e)
        {
            error = e.Message;
            return false;
        }
        item = new BatchItem(number, id!.Value, r);
        return true;
    }

    static bool Fail(string what, JsonElement found, out string error)
    {
        error = $"{what} (found {Kind(found)})";
        return false;
    }

    // JSON numbers beyond float's range would become infinity: rejected like any other bad value.
    static bool Float(JsonElement v, Func<float, bool> ok, out float value)
    {
        value = 0;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d)) return false;
        value = (float)d;
        return float.IsFinite(value) && ok(value);
    }

    static bool Stop(JsonElement v, out string[] stop)
    {
        stop = [];
        if (v.ValueKind == JsonValueKind.String)
        {
            stop = [v.GetString()!];
            return stop[0].Length > 0;
        }
        if (v.ValueKind != JsonValueKind.Array) return false;
        var list = new List<string>();
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String || e.GetString() is not { Length: > 0 } s) return false;
            list.Add(s);
        }
        stop = [.. list];
        return true;
    }

    /// <summary>What a value is, for messages: the number itself, or "a string", "null", "an array"...</summary>
    static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.String => $"the string {Truncate(e.GetRawText())}",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        _ => "an object",
    };

    static string Truncate(string s) => s.Length <= 40 ? s : s[..37] + "...";

    // System.Text.Json's messages end in "Path: $ | LineNumber: 0 | BytePositionInLine: 5.": the
    // line number is ours to give, the byte position is worth keeping.
    static string ShortMessage(JsonException e)
    {
        string m = e.Message;
        int cut = m.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0) cut = m.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0) m = m[..cut];
        m = m.TrimEnd('.', ' ');
        return e.BytePositionInLine is { } at ? $"{m} (at byte {at + 1})" : m;
    }
}

/// <summary>
/// Reads a file one line at a time as UTF-8 bytes, with each line's number and byte offset, so
/// an input of any size costs the memory of its longest line. A UTF-8 BOM at the start and the
/// '\r' of "\r\n" endings are dropped.
/// </summary>
internal sealed class ByteLineReader(Stream stream)
{
    byte[] _buffer = new byte[64 * 1024];
    int _start, _end, _scanned;   // unread bytes are _buffer[_start.._end); no '\n' in [_start.._scanned)
    long _offset;                 // file offset of _buffer[_start]
    bool _eof;
    int _number;

    /// <summary>One line: its bytes (valid until the next read), 1-based number, file offset, and whether a '\n' ended it.</summary>
    public readonly record struct Line(ReadOnlyMemory<byte> Bytes, int Number, long Offset, long End, bool Terminated)
    {
        public bool IsBlank
        {
            get
            {
                foreach (byte b in Bytes.Span)
                    if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return false;
                return true;
            }
        }
    }

    /// <summary>Lines read so far.</summary>
    public int LinesRead => _number;

    public bool TryRead(out Line line)
    {
        while (true)
        {
            int nl = _buffer.AsSpan(_scanned, _end - _scanned).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                int length = _scanned + nl - _start;
                line = Make(length, terminated: true);
                return true;
            }
            _scanned = _end;
            if (_eof)
            {
                if (_end == _start)
                {
                    line = default;
                    return false;
                }
                line = Make(_end - _start, terminated: false);
                return true;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _scanned -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            int n = stream.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0) _eof = true;
            else _end += n;
        }
    }

    Line Make(int length, bool terminated)
    {
        int start = _start, content = length;
        long offset = _offset;
        if (terminated && content > 0 && _buffer[start + content - 1] == '\r') content--;
        if (offset == 0 && content >= 3 && _buffer[start] == 0xEF && _buffer[start + 1] == 0xBB && _buffer[start + 2] == 0xBF)
        {
            start += 3;
            content -= 3;
        }
        int consumed = length + (terminated ? 1 : 0);
        _start += consumed;
        _scanned = _start;
        _offset += consumed;
        return new Line(new ReadOnlyMemory<byte>(_buffer, start, content), ++_number, offset, _offset, terminated);
    }

    /// <summary>Lines of <paramref name="path"/> that hold more than white space (for the progress bar's total).</summary>
    public static int CountNonBlank(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        var reader = new ByteLineReader(file);
        int count = 0;
        while (reader.TryRead(out var line))
            if (!line.IsBlank) count++;
        return count;
    }
}
