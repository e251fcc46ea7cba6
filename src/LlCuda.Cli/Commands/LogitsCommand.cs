using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Engine;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda logits -m FILE -p PROMPT --out FILE`: evaluates the prompt (BOS added as the model
/// says) and writes float32 little-endian logits of every position, [n_tokens, n_vocab] row-major.
/// </summary>
internal static class LogitsCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var json = CommonOptions.Json();
        var prompt = new Option<string>("--prompt", "-p") { Description = "Prompt text (\"\" = BOS only)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output file: float32 little-endian [n_tokens, n_vocab]", Required = true };
        var runner = RunnerCliOptions.Create();
        var command = new Command("logits", "Write the logits of every prompt position to a file (to compare engines)") { model, prompt, output, json };
        runner.AddTo(command);
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            using var loaded = runner.Load(r, r.GetValue(model)!, runner.Read(r));
            int[] tokens = PromptLogits.Tokenize(loaded.Tokenizer, r.GetValue(prompt)!);
            float[] logits = PromptLogits.Evaluate(loaded.Runner, tokens);
            string path = r.GetValue(output)!;
            WriteAtomically(path, MemoryMarshal.AsBytes(logits.AsSpan()).ToArray());
            if (r.GetValue(json))
            {
                using var stream = new MemoryStream();
                using (var w = new Utf8JsonWriter(stream))
                {
                    w.WriteStartObject();
                    w.WriteStartArray("tokens");
                    foreach (int t in tokens) w.WriteNumberValue(t);
                    w.WriteEndArray();
                    w.WriteNumber("n_vocab", loaded.Runner.VocabSize);
                    w.WriteString("out", path);
                    w.WriteEndObject();
                }
                console.Out.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
            }
            else console.Error.WriteLine($"llcuda: wrote logits [{tokens.Length}, {loaded.Runner.VocabSize}] float32 to {path}");
            return ExitCodes.Success;
        }));
        return command;
    }

    // Temp file + rename: a failed run never leaves a half-written logits file behind.
    static void WriteAtomically(string path, byte[] bytes)
    {
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
