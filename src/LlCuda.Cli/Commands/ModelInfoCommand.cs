using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Gguf;
using LlCuda.Models;
using LlCuda.Tensors;
using LlCuda.Tokenizers;
using Spectre.Console;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda model info -m FILE [--json]`: architecture, hyperparameters, vocabulary, every
/// tensor (name, type, shape, bytes) and totals (parameters, size, bits per weight).
/// </summary>
internal static class ModelInfoCommand
{
    // Arrays longer than this are summarized (type and count) rather than printed.
    const int ArrayPreview = 8;

    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var json = CommonOptions.Json();
        var command = new Command("info", "Show a GGUF model's architecture, hyperparameters, vocabulary and tensors") { model, json };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            using var file = GgufFile.Open(LlCuda.Storage.ModelLocator.Locate(r.GetValue(model)!).Path);
            var info = ModelSummary.Of(file);
            if (r.GetValue(json)) WriteJson(console.Out, file, info);
            else WriteText(console, file, info);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>What `model info` reports, computed once for both output forms.</summary>
    internal sealed record ModelSummary(
        ModelHyperparameters? Hyperparameters, string? HyperparametersError,
        Vocabulary? Vocab, string? VocabError, long Parameters, long TensorBytes)
    {
        public double BitsPerWeight => Parameters == 0 ? 0 : TensorBytes * 8.0 / Parameters;

        public static ModelSummary Of(GgufFile file)
        {
            ModelHyperparameters? hp = null;
            string? hpError = null;
            if (file.Architecture is not null)
            {
                try { hp = ModelHyperparameters.FromGguf(file); }
                catch (GgufFormatException e) { hpError = e.Message; }
            }
            Vocabulary? vocab = null;
            string? vocabError = null;
            if (file.Metadata.ContainsKey("tokenizer.ggml.model"))
            {
                try { vocab = Vocabulary.FromGguf(file); }
                catch (Exception e) when (e is GgufFormatException or NotSupportedException) { vocabError = e.Message; }
            }
            return new ModelSummary(hp, hpError, vocab, vocabError,
                file.Tensors.Sum(t => t.ElementCount), file.Tensors.Sum(t => t.ByteSize));
        }
    }

    static void WriteText(CliConsole console, GgufFile file, ModelSummary s)
    {
        var ui = console.Ui;
        var m = file.Metadata;
        var overview = new Grid().AddColumn().AddColumn();
        void Row(string k, string v) => overview.AddRow(new Text(k), new Text(v));
        Row("file", file.Source);
        Row("format", $"GGUF v{file.Version}, alignment {file.Alignment}, data at byte {file.DataOffset:N0}");
        Row("architecture", file.Architecture ?? "(none: vocabulary-only file)");
        if (m.GetStringOrNull("general.name") is { } name) Row("name", name);
        if (m.GetInt64OrNull("general.file_type") is { } ft) Row("file type", GgufFileType.Name(ft));
        Row("size", $"{Bytes(file.FileSize)} ({file.FileSize:N0} bytes)");
        Row("parameters", $"{Count(s.Parameters)} ({s.Parameters:N0})");
        Row("tensor data", $"{Bytes(s.TensorBytes)}, {s.BitsPerWeight:F2} bits per weight");
        ui.Write(overview);
        ui.WriteLine();

        if (s.Hyperparameters is { } hp)
        {
            var t = new Table().Title("hyperparameters").AddColumn("key").AddColumn(new TableColumn("value").RightAligned());
            t.AddRow("context length", hp.ContextLength.ToString("N0", CultureInfo.InvariantCulture));
            t.AddRow("embedding length", hp.EmbeddingLength.ToString(CultureInfo.InvariantCulture));
            t.AddRow("blocks", hp.BlockCount.ToString(CultureInfo.InvariantCulture));
            t.AddRow("feed-forward length", hp.FeedForwardLength.ToString(CultureInfo.InvariantCulture));
            t.AddRow("heads / kv heads", $"{hp.HeadCount} / {hp.HeadCountKv} (GQA {hp.GqaRatio})");
            t.AddRow("head dim (k / v)", $"{hp.KeyLength} / {hp.ValueLength}");
            t.AddRow("rope dims / base", $"{hp.RopeDimensionCount} / {hp.RopeFreqBase.ToString(CultureInfo.InvariantCulture)}");
            if (hp.RopeScalingType != "none") t.AddRow("rope scaling", $"{hp.RopeScalingType} x{hp.RopeScalingFactor.ToString(CultureInfo.InvariantCulture)}");
            t.AddRow("rms epsilon", hp.RmsEpsilon.ToString("G", CultureInfo.InvariantCulture));
            t.AddRow("vocab size", hp.VocabSize.ToString(CultureInfo.InvariantCulture));
            if (hp.ExpertCount > 0) t.AddRow("experts (used)", $"{hp.ExpertCount} ({hp.ExpertUsedCount})");
            ui.Write(t);
        }
        else if (s.HyperparametersError is { } hpErr) ui.Write(new Text($"hyperparameters: {hpErr}\n"));

        if (s.Vocab is { } v)
        {
            var t = new Table().Title("vocabulary").AddColumn("key").AddColumn(new TableColumn("value").RightAligned());
            t.AddRow("model / pre-tokenizer", $"{v.Model} / {v.Pre}");
            t.AddRow("tokens", v.Count.ToString("N0", CultureInfo.InvariantCulture));
            t.AddRow("merges", v.Merges.Count.ToString("N0", CultureInfo.InvariantCulture));
            t.AddRow("bos / eos / unk", $"{TokenText(v, v.Bos)} / {TokenText(v, v.Eos)} / {TokenText(v, v.Unk)}");
            t.AddRow("add bos / eos / space prefix", $"{v.AddBos} / {v.AddEos} / {v.AddSpacePrefix}");
            ui.Write(t);
        }
        else if (s.VocabError is { } vErr) ui.Write(new Text($"vocabulary: {vErr}\n"));

        var meta = new Table().Title($"metadata ({m.Count} keys)").AddColumn("key").AddColumn("type").AddColumn("value");
        foreach (var (key, value) in m)
            meta.AddRow(new Text(key), new Text(value.Describe()), new Text(Preview(value)));
        ui.Write(meta);

        var tensors = new Table().Title($"tensors ({file.Tensors.Count})").AddColumn("name").AddColumn("type").AddColumn("shape")
            .AddColumn(new TableColumn("bytes").RightAligned());
        foreach (var t in file.Tensors)
            tensors.AddRow(new Text(t.Name), new Text(t.Type.ToString()), new Text(t.ShapeText), new Text(t.ByteSize.ToString("N0", CultureInfo.InvariantCulture)));
        tensors.AddRow(new Text("total"), new Text(""), new Text($"{s.Parameters:N0} parameters"), new Text(s.TensorBytes.ToString("N0", CultureInfo.InvariantCulture)));
        ui.Write(tensors);

        var byType = file.Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.ByteSize));
        ui.WriteLine("by type: " + string.Join(", ", byType.Select(g => $"{g.Key} {g.Count()} tensors {Bytes(g.Sum(t => t.ByteSize))} ({GgmlTypeInfo.BitsPerWeight(g.Key):F2} bpw)")));
    }

    static void WriteJson(TextWriter output, GgufFile file, ModelSummary s)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("file", file.Source);
            w.WriteNumber("version", file.Version);
            w.WriteNumber("file_size", file.FileSize);
            w.WriteNumber("alignment", file.Alignment);
            w.WriteNumber("data_offset", file.DataOffset);
            if (file.Architecture is { } arch) w.WriteString("architecture", arch); else w.WriteNull("architecture");
            if (file.Metadata.GetInt64OrNull("general.file_type") is { } ft) w.WriteString("file_type", GgufFileType.Name(ft));

            if (s.Hyperparameters is { } hp)
            {
                w.WriteStartObject("hyperparameters");
                w.WriteNumber("context_length", hp.ContextLength);
                w.WriteNumber("embedding_length", hp.EmbeddingLength);
                w.WriteNumber("block_count", hp.BlockCount);
                w.WriteNumber("feed_forward_length", hp.FeedForwardLength);
                w.WriteNumber("head_count", hp.HeadCount);
                w.WriteNumber("head_count_kv", hp.HeadCountKv);
                w.WriteNumber("key_length", hp.KeyLength);
                w.WriteNumber("value_length", hp.ValueLength);
                w.WriteNumber("rope_dimension_count", hp.RopeDimensionCount);
                w.WriteNumber("rope_freq_base", hp.RopeFreqBase);
                w.WriteString("rope_scaling_type", hp.RopeScalingType);
                w.WriteNumber("rope_scaling_factor", hp.RopeScalingFactor);
                w.WriteNumber("rms_epsilon", hp.RmsEpsilon);
                w.WriteNumber("vocab_size", hp.VocabSize);
                w.WriteNumber("expert_count", hp.ExpertCount);
                w.WriteNumber("expert_used_count", hp.ExpertUsedCount);
                w.WriteEndObject();
            }
            else if (s.HyperparametersError is { } e) w.WriteString("hyperparameters_error", e);

            if (s.Vocab is { } v)
            {
                w.WriteStartObject("vocab");
                w.WriteString("model", v.Model);
                w.WriteString("pre", v.Pre);
                w.WriteNumber("tokens", v.Count);
                w.WriteNumber("merges", v.Merges.Count);
                w.WriteNumber("bos", v.Bos);
                w.WriteNumber("eos", v.Eos);
                w.WriteNumber("unk", v.Unk);
                w.WriteBoolean("add_bos", v.AddBos);
                w.WriteBoolean("add_eos", v.AddEos);
                w.WriteBoolean("add_space_prefix", v.AddSpacePrefix);
                w.WriteEndObject();
            }
            else if (s.VocabError is { } e) w.WriteString("vocab_error", e);

            w.WriteStartObject("metadata");
            foreach (var (key, value) in file.Metadata)
            {
                w.WritePropertyName(key);
                WriteJsonValue(w, value);
            }
            w.WriteEndObject();

            w.WriteStartArray("tensors");
            foreach (var t in file.Tensors)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteString("type", t.Type.ToString());
                w.WriteStartArray("shape");
                foreach (var d in t.Dimensions) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteNumber("elements", t.ElementCount);
                w.WriteNumber("bytes", t.ByteSize);
                w.WriteNumber("offset", t.Offset);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartObject("totals");
            w.WriteNumber("tensors", file.Tensors.Count);
            w.WriteNumber("parameters", s.Parameters);
            w.WriteNumber("bytes", s.TensorBytes);
            w.WriteNumber("bits_per_weight", Math.Round(s.BitsPerWeight, 4));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    // Long arrays (vocabularies of 150k strings) become {"type","count"} so the output stays small.
    static void WriteJsonValue(Utf8JsonWriter w, GgufValue value)
    {
        switch (value.Value)
        {
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case float f when float.IsFinite(f): w.WriteNumberValue(f); break;
            case double d when double.IsFinite(d): w.WriteNumberValue(d); break;
            case float or double: w.WriteStringValue(value.ToString()); break;
            case ulong u: w.WriteNumberValue(u); break;
            case Array a when value.Type == GgufValueType.Array && a.Length <= ArrayPreview:
                w.WriteStartArray();
                foreach (var item in a) WriteJsonValue(w, item as GgufValue ?? Box(value.ElementType, item!));
                w.WriteEndArray();
                break;
            case Array a:
                w.WriteStartObject();
                w.WriteString("type", value.ElementType.ToString().ToLowerInvariant());
                w.WriteNumber("count", a.Length);
                w.WriteEndObject();
                break;
            default: w.WriteNumberValue(value.AsInt64()); break;
        }
    }

    static GgufValue Box(GgufValueType type, object item) => item switch
    {
        string s => GgufValue.Of(s),
        bool b => GgufValue.Of(b),
        float f => GgufValue.Of(f),
        double d => GgufValue.Of(d),
        ulong u => GgufValue.Of(u),
        _ => GgufValue.Of(Convert.ToInt64(item, CultureInfo.InvariantCulture)),
    };

    static string Preview(GgufValue value)
    {
        if (value.Value is not Array a || value.Type != GgufValueType.Array)
        {
            string text = value.ToString();
            return text.Length > 80 ? text[..77] + "..." : text;
        }
        var items = a.Cast<object>().Take(ArrayPreview).Select(x => x is GgufValue g ? g.Describe() : Convert.ToString(x, CultureInfo.InvariantCulture));
        return "[" + string.Join(", ", items) + (a.Length > ArrayPreview ? ", ..." : "") + "]";
    }

    static string TokenText(Vocabulary v, int id) => id < 0 ? "-" : $"{id} '{v.Tokens[id]}'";

    internal static string Bytes(long n) => n switch
    {
        >= 1L << 30 => $"{n / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{n / (double)(1L << 20):F2} MiB",
        >= 1L << 10 => $"{n / 1024.0:F2} KiB",
        _ => $"{n} B",
    };

    static string Count(long n) => n switch
    {
        >= 1_000_000_000 => $"{n / 1e9:F2} B",
        >= 1_000_000 => $"{n / 1e6:F2} M",
        >= 1_000 => $"{n / 1e3:F1} K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };
}
