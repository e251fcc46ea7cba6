using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Gguf;
using LlCuda.Tokenizers;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda detokenize -m FILE [--special] [--json] IDS...`: the text a list of token ids stands
/// for; detokenize(tokenize(text)) gives the text back.
/// </summary>
internal static class DetokenizeCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var json = CommonOptions.Json();
        var special = new Option<bool>("--special") { Description = "Render control tokens such as <s> as text instead of dropping them" };
        var ids = new Argument<string[]>("ids")
        {
            Description = "Token ids, separated by spaces or commas (\"1 403 407\" or \"[1, 403, 407]\")",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("detokenize", "Turn token ids back into text with a model's vocabulary") { model, special, json, ids };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            int[] tokens = ParseIds(r.GetValue(ids)!);
            using var gguf = GgufFile.Open(LlCuda.Storage.ModelLocator.Locate(r.GetValue(model)!).Path);
            var tokenizer = Tokenizer.FromGguf(gguf);
            foreach (int id in tokens)
                if (id < 0 || id >= tokenizer.Count)
                    throw new GgufFormatException($"token id {id} is outside the vocabulary of {tokenizer.Count} tokens (valid ids: 0 to {tokenizer.Count - 1})");
            // A leading BOS is dropped (unless --special shows it) so that detokenize inverts
            // tokenize: llama.cpp's detokenize keeps the SPM space prefix after a BOS it drops.
            bool showSpecial = r.GetValue(special);
            var body = !showSpecial && tokens.Length > 0 && tokens[0] == tokenizer.Vocabulary.Bos ? tokens[1..] : tokens;
            string text = tokenizer.Decode(body, removeSpecial: false, unparseSpecial: showSpecial);
            if (r.GetValue(json))
            {
                using var stream = new MemoryStream();
                using (var w = new Utf8JsonWriter(stream))
                {
                    w.WriteStartObject();
                    w.WriteString("text", text);
                    w.WriteEndObject();
                }
                console.Out.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
            }
            else console.Out.WriteLine(text);
            return ExitCodes.Success;
        }));
        return command;
    }

    static int[] ParseIds(string[] args)
    {
        var result = new List<int>();
        foreach (var part in args.SelectMany(a => a.Split([' ', ',', '[', ']', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries)))
        {
            if (!int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int id))
                throw new UsageException($"'{part}' is not a token id (ids are integers such as 1 403 407)");
            result.Add(id);
        }
        if (result.Count == 0) throw new UsageException("no token ids given");
        return result.ToArray();
    }
}
