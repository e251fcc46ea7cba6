using LlCuda.Gguf;
using LlCuda.Tensors;

namespace LlCuda.Models.Quantization;

/// <summary>
/// What a model is quantized to: one of llama.cpp's file types (llama_ftype: "Q4_K_M", "Q4_0",
/// "F16" ...), whose per-tensor rules <see cref="TensorTypePlanner"/> reproduces, or a bare
/// K-quant tensor type ("Q4_K") that every matrix gets as is. Names are case-insensitive.
/// </summary>
public sealed record QuantizationTarget
{
    QuantizationTarget(string name, int fileType, GgmlType defaultType, bool alwaysPure)
    {
        Name = name;
        FileType = fileType;
        DefaultType = defaultType;
        AlwaysPure = alwaysPure;
    }

    /// <summary>Canonical upper-case name ("Q4_K_M").</summary>
    public string Name { get; }

    /// <summary>general.file_type written to the output (a llama_ftype id, see <see cref="GgufFileType"/>).</summary>
    public int FileType { get; }

    /// <summary>The type of matrices no rule singles out (llama_ftype_get_default_type).</summary>
    public GgmlType DefaultType { get; }

    /// <summary>True for bare tensor types: every matrix gets <see cref="DefaultType"/>, as with --pure.</summary>
    public bool AlwaysPure { get; }

    /// <summary>True when the default type is a block-quantized type (llama.cpp applies its mix rules and shape fallbacks only then).</summary>
    public bool IsQuantized => DefaultType is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16);

    /// <summary>llama.cpp file types that llcuda can write, with their default tensor type.</summary>
    static readonly (string Name, GgmlType Default)[] FileTypes =
    [
        ("F32", GgmlType.F32), ("F16", GgmlType.F16), ("BF16", GgmlType.BF16),
        ("Q4_0", GgmlType.Q4_0), ("Q4_1", GgmlType.Q4_1), ("Q5_0", GgmlType.Q5_0), ("Q5_1", GgmlType.Q5_1), ("Q8_0", GgmlType.Q8_0),
        ("Q2_K", GgmlType.Q2_K), ("Q3_K_S", GgmlType.Q3_K), ("Q3_K_M", GgmlType.Q3_K), ("Q3_K_L", GgmlType.Q3_K),
        ("Q4_K_S", GgmlType.Q4_K), ("Q4_K_M", GgmlType.Q4_K), ("Q5_K_S", GgmlType.Q5_K), ("Q5_K_M", GgmlType.Q5_K),
        ("Q6_K", GgmlType.Q6_K),
    ];

    /// <summary>Bare tensor types that are not file-type names, and the file type recorded for them (the "_S" mix, the closest to one type throughout).</summary>
    static readonly (string Name, GgmlType Type, string FileType)[] BareTypes =
    [
        ("Q3_K", GgmlType.Q3_K, "Q3_K_S"), ("Q4_K", GgmlType.Q4_K, "Q4_K_S"), ("Q5_K", GgmlType.Q5_K, "Q5_K_S"),
    ];

    /// <summary>Every accepted name, file types first.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. FileTypes.Select(f => f.Name), .. BareTypes.Select(b => b.Name)];

    /// <summary>Parses a type name; throws an ArgumentException listing the accepted names.</summary>
    public static QuantizationTarget Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string name = text.Trim().ToUpperInvariant();
        foreach (var (n, type) in FileTypes)
            if (n == name && GgufFileType.TryParse(n, out int id)) return new QuantizationTarget(n, id, type, alwaysPure: false);
        foreach (var (n, type, fileType) in BareTypes)
            if (n == name && GgufFileType.TryParse(fileType, out int id)) return new QuantizationTarget(n, id, type, alwaysPure: true);
        if (name == "Q2_K_S")
            throw new NotSupportedException("type Q2_K_S needs an importance matrix (llama.cpp refuses it without one too); use Q2_K or Q3_K_S");
        if (GgufFileType.TryParse(name, out _) || (GgmlTypeInfo.TryParse(name, out var t) && !Quantize.Supports(t)))
            throw new NotSupportedException($"type {name} is not supported: llcuda has no quantizer for it (supported: {string.Join(", ", Names)})");
        throw new ArgumentException($"unknown type '{text}' (expected one of {string.Join(", ", Names)})", nameof(text));
    }

    public override string ToString() => Name;
}
