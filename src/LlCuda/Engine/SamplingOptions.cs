using System.Globalization;

namespace LlCuda.Engine;

/// <summary>
/// How the next token is chosen. Defaults follow llama.cpp's common defaults (temperature 0.8,
/// top-k 40, top-p 0.95, min-p 0.05, repeat penalty 1.0 over the last 64 tokens). Temperature 0
/// means greedy. Validated in one place, with messages that name the option and its range.
/// </summary>
public sealed record SamplingOptions
{
    public float Temperature { get; init; } = 0.8f;
    /// <summary>Keep the K most likely tokens; 0 disables.</summary>
    public int TopK { get; init; } = 40;
    /// <summary>Keep the smallest set whose probability reaches P; 1 disables.</summary>
    public float TopP { get; init; } = 0.95f;
    /// <summary>Drop tokens whose probability is below P times the most likely one's; 0 disables.</summary>
    public float MinP { get; init; } = 0.05f;
    /// <summary>Divide positive logits (multiply negative ones) of recently seen tokens by this; 1 disables.</summary>
    public float RepeatPenalty { get; init; } = 1.0f;
    /// <summary>Subtract this times the token's count in the window; 0 disables.</summary>
    public float FrequencyPenalty { get; init; }
    /// <summary>Subtract this from every token present in the window; 0 disables.</summary>
    public float PresencePenalty { get; init; }
    /// <summary>How many of the most recent tokens the penalties look at.</summary>
    public int PenaltyWindow { get; init; } = 64;
    /// <summary>Random seed; the same seed and inputs give the same text.</summary>
    public ulong Seed { get; init; } = 0xC0FFEE;

    /// <summary>Greedy decoding (argmax), what tests and llama.cpp comparisons use.</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0 };

    public bool IsGreedy => Temperature <= 0;

    /// <summary>Throws an ArgumentException naming the first invalid value and its valid range.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, float value, string range)
        {
            if (!ok) throw new ArgumentException($"{name} {value.ToString(CultureInfo.InvariantCulture)} is out of range: expected {range}");
        }
        Check(float.IsFinite(Temperature) && Temperature >= 0, "--temp", Temperature, "a number >= 0 (0 = greedy)");
        Check(TopK >= 0, "--top-k", TopK, "an integer >= 0 (0 = off)");
        Check(TopP is > 0 and <= 1, "--top-p", TopP, "a number in (0, 1] (1 = off)");
        Check(MinP is >= 0 and <= 1, "--min-p", MinP, "a number in [0, 1] (0 = off)");
        Check(float.IsFinite(RepeatPenalty) && RepeatPenalty > 0, "--repeat-penalty", RepeatPenalty, "a number > 0 (1 = off)");
        Check(float.IsFinite(FrequencyPenalty), "--frequency-penalty", FrequencyPenalty, "a finite number");
        Check(float.IsFinite(PresencePenalty), "--presence-penalty", PresencePenalty, "a finite number");
        Check(PenaltyWindow >= 0, "--repeat-last-n", PenaltyWindow, "an integer >= 0");
    }
}
