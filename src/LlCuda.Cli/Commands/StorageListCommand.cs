using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Storage;
using Spectre.Console;

namespace LlCuda.Cli.Commands;

/// <summary>`llcuda storage list [--json]`: every stored tag with its digest, size, architecture, quantization, last use and pin.</summary>
internal static class StorageListCommand
{
    public static Command Create(CliConsole console)
    {
        var json = CommonOptions.Json();
        var command = new Command("list", "List the models in the store") { json };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var store = ModelStore.FromEnvironment();
            var models = store.List();
            if (r.GetValue(json)) WriteJson(console, models);
            else if (models.Count == 0) console.Error.WriteLine($"llcuda: the store at {store.Layout.Root} is empty (llcuda storage put FILE --name NAME:TAG)");
            else
            {
                var t = new Table().AddColumn("name").AddColumn("tag").AddColumn("digest").AddColumn(new TableColumn("size").RightAligned())
                    .AddColumn("architecture").AddColumn("quantization").AddColumn("last used").AddColumn("pinned");
                foreach (var m in models)
                    t.AddRow(Markup.Escape(m.Reference.Name), Markup.Escape(m.Reference.Tag), m.Weights.Digest.ToString()[..19],
                        ModelInfoCommand.Bytes(m.Weights.Size), Markup.Escape(m.Config.Architecture), Markup.Escape(m.Config.Quantization),
                        m.Tag.LastUsed.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), m.Tag.Pinned ? "yes" : "");
                console.Ui.Write(t);
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    static void WriteJson(CliConsole console, IReadOnlyList<StoredModel> models)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartArray();
            foreach (var m in models)
            {
                w.WriteStartObject();
                w.WriteString("name", m.Reference.Name);
                w.WriteString("tag", m.Reference.Tag);
                w.WriteString("manifest", m.Tag.Manifest.ToString());
                w.WriteString("digest", m.Weights.Digest.ToString());
                w.WriteNumber("size", m.Weights.Size);
                w.WriteString("architecture", m.Config.Architecture);
                w.WriteNumber("parameters", m.Config.Parameters);
                w.WriteString("quantization", m.Config.Quantization);
                if (m.Config.License is { } l) w.WriteString("license", l);
                w.WriteString("last_used", m.Tag.LastUsed.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
                w.WriteBoolean("pinned", m.Tag.Pinned);
                w.WriteString("path", m.WeightsPath);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
