using System.Text;
using LLama.Native;

namespace LlCuda.LlamaCpp;

/// <summary>
/// Where llama.cpp's log goes. llama.cpp (and LLamaSharp's library loader) log every load in
/// detail, dozens of lines per model; llcuda prints none of them, so stdout stays the model's
/// text and stderr stays one line per event. The recent warnings and errors are kept instead,
/// because they are the only place llama.cpp says *why* a load or a decode failed
/// ("unknown model architecture: 'xyz'"), and our error messages quote them.
/// LLCUDA_DEBUG=1 echoes the whole log, every level, to stderr.
/// </summary>
/// <remarks>
/// llama.cpp may call the callback from its worker threads and sends long messages in pieces
/// (level Continue), so lines are assembled under a lock.
/// </remarks>
public static class LlamaCppLog
{
    const int Kept = 32;

    static readonly Lock Gate = new();
    static readonly StringBuilder Line = new();
    static readonly Queue<(long Sequence, LLamaLogLevel Level, string Text)> Recent = new();
    static LLamaLogLevel _lineLevel = LLamaLogLevel.Info;
    static long _sequence;

    /// <summary>Echo everything to stderr (LLCUDA_DEBUG=1).</summary>
    public static bool Echo { get; } = Environment.GetEnvironmentVariable("LLCUDA_DEBUG") == "1";

    /// <summary>The callback handed to llama.cpp and LLamaSharp's loader.</summary>
    public static void Receive(LLamaLogLevel level, string message)
    {
        if (Echo) Console.Error.Write(message);
        lock (Gate)
        {
            if (level != LLamaLogLevel.Continue) _lineLevel = level;
            foreach (char c in message)
            {
                if (c != '\n') { Line.Append(c); continue; }
                Complete();
            }
        }
    }

    // Keeps warnings and errors only: info lines are the bulk of the log and never the reason.
    static void Complete()
    {
        string text = Line.ToString().Trim();
        Line.Clear();
        if (text.Length == 0 || _lineLevel is not (LLamaLogLevel.Warning or LLamaLogLevel.Error)) return;
        Recent.Enqueue((++_sequence, _lineLevel, text));
        while (Recent.Count > Kept) Recent.Dequeue();
    }

    /// <summary>A point in the log; <see cref="ReasonSince"/> looks only at what came after it.</summary>
    public static long Mark()
    {
        lock (Gate) return _sequence;
    }

    /// <summary>
    /// llama.cpp's explanation of a failure after <paramref name="mark"/>: its error lines (else
    /// its warnings) joined into one line, or null when it said nothing.
    /// </summary>
    public static string? ReasonSince(long mark)
    {
        lock (Gate)
        {
            if (Line.Length > 0) Complete();
            var after = Recent.Where(r => r.Sequence > mark).ToList();
            var chosen = after.Where(r => r.Level == LLamaLogLevel.Error).ToList();
            if (chosen.Count == 0) chosen = after;
            if (chosen.Count == 0) return null;
            // The last few lines carry the cause; earlier ones are usually context.
            return string.Join("; ", chosen.TakeLast(3).Select(r => r.Text));
        }
    }
}
