using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Engine;

namespace LlCuda.Cli.Commands;

/// <summary>
/// The results file of `llcuda batch`: JSON Lines, one object per finished request, appended as
/// each finishes. Opening it reads the ids already there (so a re-run skips them) and repairs
/// the one kind of damage an interrupted run can leave, a torn last line; any other line that is
/// not a result stops the run before anything is written, so a wrong -o is never damaged.
/// </summary>
/// <remarks>
/// Each line goes out in one unbuffered write and is flushed to the operating system at once:
/// a crash or kill of llcuda loses nothing already written, and a torn line can only be the last
/// one (a power cut can still lose what the OS had not yet put on disk; the repair covers that
/// too). The file is locked while open, so two runs cannot append to the same results.
/// </remarks>
internal sealed class BatchResults : IDisposable
{
    // Every line this class writes starts so; a last line that does not parse is only removed
    // when it does too, or is torn within these bytes: never when it might be someone else's data.
    static readonly byte[] LineStart = "{\"id\":"u8.ToArray();
    static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    readonly FileStream _file;
    readonly string _path;
    readonly Lock _gate = new();
    readonly ArrayBufferWriter<byte> _line = new(1024);

    BatchResults(FileStream file, string path, HashSet<string> done, bool created)
    {
        _file = file;
        _path = path;
        Done = done;
        Created = created;
    }

    /// <summary>Keys (<see cref="BatchId.Key"/>) of the requests already in the file.</summary>
    public IReadOnlySet<string> Done { get; }

    /// <summary>This run created the file.</summary>
    public bool Created { get; }

    /// <summary>
    /// Opens (or creates) <paramref name="path"/> for appending, after reading the ids in it and
    /// cutting off a torn last line (<paramref name="note"/> says so).
    /// </summary>
    /// <exception cref="BatchFileException">The directory is missing, the file is locked or unreadable, or a line is not a result.</exception>
    public static BatchResults Open(string path, Action<string> note)
    {
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir))
            throw new BatchFileException($"{path}: the directory {dir} does not exist; create it or give -o a file in an existing directory", ExitCodes.CannotWrite);
        if (Directory.Exists(full))
            throw new BatchFileException($"{path} is a directory; give -o a file name (e.g. {Path.Combine(path, "results.jsonl")})", ExitCodes.CannotWrite);
        bool created = !File.Exists(full);
        FileStream file;
        try
        {
            // FileShare.None takes an exclusive lock (flock on Linux): a second run on the same output fails here.
            file = new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        }
        catch (UnauthorizedAccessException)
        {
            throw new BatchFileException($"{path}: permission denied; choose an -o file you can write", ExitCodes.CannotWrite);
        }
        catch (IOException e)
        {
            throw new BatchFileException($"{path}: cannot open for appending ({e.Message}); is another llcuda batch writing it? Wait for it or choose another -o", ExitCodes.CannotWrite);
        }
        try
        {
            var done = Scan(file, path, note);
            return new BatchResults(file, path, done, created);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    static HashSet<string> Scan(FileStream file, string path, Action<string> note)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        var reader = new ByteLineReader(file);
        (int Number, long Offset, string Why, bool Torn)? bad = null;
        long end = 0;
        bool lastTerminated = true;
        while (reader.TryRead(out var line))
        {
            if (line.IsBlank)
            {
                end = line.End;
                lastTerminated = line.Terminated;
                continue;
            }
            if (bad is { } earlier)
                throw new BatchFileException($"{path}:{earlier.Number}: not a result line ({earlier.Why}); this file was not written by llcuda batch or was edited: fix or delete that line, or choose another -o", ExitCodes.DataError);
            if (ResultId(line.Bytes, out string why) is { } key) done.Add(key);
            else bad = (line.Number, line.Offset, why, line.Bytes.Span.StartsWith(LineStart) || LineStart.AsSpan().StartsWith(line.Bytes.Span));
            end = line.End;
            lastTerminated = line.Terminated;
        }
        if (bad is { } last)
        {
            if (!last.Torn)
                throw new BatchFileException($"{path}:{last.Number}: not a result line ({last.Why}); this file was not written by llcuda batch or was edited: fix or delete that line, or choose another -o", ExitCodes.DataError);
            note($"{path}:{last.Number}: removed an incomplete last line ({end - last.Offset} bytes, left by an interrupted run); its request runs again");
            file.SetLength(last.Offset);
            end = last.Offset;
            lastTerminated = true;
        }
        file.Seek(end, SeekOrigin.Begin);
        // A whole last result whose newline never made it to the disk: end the line before appending.
        if (!lastTerminated) file.Write("\n"u8);
        return done;
    }

    // The id key of a result line, or null with the reason it is not one.
    static string? ResultId(ReadOnlyMemory<byte> line, out string why)
    {
        why = "";
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) why = "not a JSON object";
            else if (!doc.RootElement.TryGetProperty("id", out var id)) why = "no \"id\"";
            else if (BatchId.From(id) is { } batchId) return batchId.Key;
            else why = "\"id\" is not a string or a number";
        }
        catch (JsonException) { why = "not valid JSON"; }
        catch (InvalidOperationException) { why = "not valid UTF-8"; }
        return null;
    }

    /// <summary>Appends one result line and flushes it; safe from any thread.</summary>
    /// <exception cref="IOException">The disk is full or the file cannot be written.</exception>
    public void Write(BatchId id, InferResponse r)
    {
        lock (_gate)
        {
            _line.ResetWrittenCount();
            using (var w = new Utf8JsonWriter(_line, WriterOptions))
            {
                w.WriteStartObject();
                w.WritePropertyName("id");
                w.WriteRawValue(id.Json);
                w.WriteString("text", r.Text);
                w.WriteNumber("tokens", r.CompletionTokens);
                w.WriteNumber("prompt_tokens", r.PromptTokens);
                w.WriteNumber("ttft_ms", Math.Round(r.TimeToFirstTokenMs, 3));
                w.WriteNumber("latency_ms", Math.Round(r.LatencyMs, 3));
                w.WriteString("finish_reason", r.FinishReason);
                w.WriteEndObject();
            }
            _line.Write("\n"u8);
            try
            {
                _file.Write(_line.WrittenSpan);
                _file.Flush();
            }
            catch (IOException e)
            {
                throw new IOException($"{_path}: writing a result failed ({e.Message}); free some space, then run the same command again to resume", e);
            }
        }
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>An input or output file of `llcuda batch` that cannot be used, with the exit code that says why.</summary>
internal sealed class BatchFileException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
