using System.CommandLine;
using LlCuda.Engine;

namespace LlCuda.Cli.Commands;

/// <summary>The sampling options of infer, batch and serve, with the defaults of <see cref="SamplingOptions"/>.</summary>
internal sealed class SamplingCliOptions
{
    static readonly SamplingOptions Defaults = new();
    Option<float> _temp = null!, _topP = null!, _minP = null!, _repeat = null!, _freq = null!, _presence = null!;
    Option<int> _topK = null!, _window = null!;
    Option<ulong> _seed = null!;

    public static SamplingCliOptions Create() => new()
    {
        _temp = new("--temp") { Description = "Temperature (0 = greedy)", DefaultValueFactory = _ => Defaults.Temperature },
        _topK = new("--top-k") { Description = "Keep the K most likely tokens (0 = off)", DefaultValueFactory = _ => Defaults.TopK },
        _topP = new("--top-p") { Description = "Nucleus sampling threshold (1 = off)", DefaultValueFactory = _ => Defaults.TopP },
        _minP = new("--min-p") { Description = "Drop tokens below P times the best one's probability (0 = off)", DefaultValueFactory = _ => Defaults.MinP },
        _repeat = new("--repeat-penalty") { Description = "Penalty for recently seen tokens (1 = off)", DefaultValueFactory = _ => Defaults.RepeatPenalty },
        _freq = new("--frequency-penalty") { Description = "Subtracted per occurrence in the window (0 = off)" },
        _presence = new("--presence-penalty") { Description = "Subtracted once for tokens in the window (0 = off)" },
        _window = new("--repeat-last-n") { Description = "Tokens the penalties look back over", DefaultValueFactory = _ => Defaults.PenaltyWindow },
        _seed = new("--seed") { Description = "Random seed (same seed, same text)", DefaultValueFactory = _ => Defaults.Seed },
    };

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { _temp, _topK, _topP, _minP, _repeat, _freq, _presence, _window, _seed }) command.Options.Add(o);
    }

    public SamplingOptions Read(ParseResult r) => new()
    {
        Temperature = r.GetValue(_temp),
        TopK = r.GetValue(_topK),
        TopP = r.GetValue(_topP),
        MinP = r.GetValue(_minP),
        RepeatPenalty = r.GetValue(_repeat),
        FrequencyPenalty = r.GetValue(_freq),
        PresencePenalty = r.GetValue(_presence),
        PenaltyWindow = r.GetValue(_window),
        Seed = r.GetValue(_seed),
    };
}
