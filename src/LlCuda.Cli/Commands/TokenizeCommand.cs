using System.CommandLine;
using System.Text;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Gguf;
using LlCuda.Tokenizers;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda tokenize -m FILE [--no-bos] [--special] [--pieces] [--json] (-p TEXT | -f FILE)`:
/// the token ids llama.cpp would give for the text, using the model's own vocabulary.
/// </summary>
internal static class TokenizeCommand
{
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var json = CommonOptions.Json();
        var prompt = new Option<string>("--prompt", "-p") { Description = "Text to tokenize" };
        var file = new Option<string>("--file", "-f") { Description = "Read the text from a UTF-8 file ('-' for standard input)" };
        var noBos = new Option<bool>("--no-bos") { Description = "Do not add the BOS/EOS tokens the vocabulary asks for" };
        var special = new Option<bool>("--special") { Description = "Parse special-token text such as <s> into control tokens" };
        var pieces = new Option<bool>("--pieces") { Description = "Print one line per token: id and its text" };
        var command = new Command("tokenize", "Turn text into token ids with a model's vocabulary (exactly as llama.cpp does)")
        {
            model, prompt, file, noBos, special, pieces, json,
        };
        command.Validators.Add(r =>
        {
            bool hasPrompt = r.GetResult(prompt) is not null, hasFile = r.GetResult(file) is not null;
            if (hasPrompt == hasFile) r.AddError("give the text with exactly one of --prompt (-p) or --file (-f)");
        });
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            string text = r.GetValue(prompt) ?? ReadText(r.GetValue(file)!);
            using var gguf = GgufFile.Open(LlCuda.Storage.ModelLocator.Locate(r.GetValue(model)!).Path);
            var tokenizer = Tokenizer.FromGguf(gguf);
            int[] ids = tokenizer.Encode(text, addSpecial: !r.GetValue(noBos), parseSpecial: r.GetValue(special));
            if (r.GetValue(json)) WriteJson(console.Out, ids);
            else if (r.GetValue(pieces))
                foreach (int id in ids) console.Out.WriteLine($"{id,7} -> '{Encoding.UTF8.GetString(tokenizer.TokenToPiece(id, special: true))}'");
            else console.Out.WriteLine(string.Join(' ', ids));
            return ExitCodes.Success;
        }));
        return command;
    }

    static string ReadText(string path)
    {
        byte[] bytes;
        if (path == "-")
        {
            using var stdin = Console.OpenStandardInput();
            using var ms = new MemoryStream();
            stdin.CopyTo(ms);
            bytes = ms.ToArray();
        }
        else
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such text file", path);
            bytes = File.ReadAllBytes(path);
        }
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new UsageException($"{path}: not valid UTF-8 at byte {e.Index} (convert the file to UTF-8, e.g. with iconv)");
        }
    }

    static void WriteJson(TextWriter output, int[] ids)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteStartArray("ids");
            foreach (int id in ids) w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }
}
