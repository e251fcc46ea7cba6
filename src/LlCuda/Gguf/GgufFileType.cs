namespace LlCuda.Gguf;

/// <summary>
/// general.file_type: the quantization mix a whole model was made with (llama.cpp's
/// llama_ftype), e.g. 15 = Q4_K_M. Ids 4-6 and 33-35 were removed from llama.cpp.
/// </summary>
public static class GgufFileType
{
    static readonly Dictionary<int, string> Names = new()
    {
        [0] = "F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1", [7] = "Q8_0", [8] = "Q5_0", [9] = "Q5_1",
        [10] = "Q2_K", [11] = "Q3_K_S", [12] = "Q3_K_M", [13] = "Q3_K_L", [14] = "Q4_K_S", [15] = "Q4_K_M",
        [16] = "Q5_K_S", [17] = "Q5_K_M", [18] = "Q6_K", [19] = "IQ2_XXS", [20] = "IQ2_XS", [21] = "Q2_K_S",
        [22] = "IQ3_XS", [23] = "IQ3_XXS", [24] = "IQ1_S", [25] = "IQ4_NL", [26] = "IQ3_S", [27] = "IQ3_M",
        [28] = "IQ2_S", [29] = "IQ2_M", [30] = "IQ4_XS", [31] = "IQ1_M", [32] = "BF16", [36] = "TQ1_0",
        [37] = "TQ2_0", [38] = "MXFP4_MOE",
    };

    /// <summary>Name of file type <paramref name="id"/> ("Q4_K_M"), or "unknown (N)".</summary>
    public static string Name(long id) => id is >= 0 and <= int.MaxValue && Names.TryGetValue((int)id, out var n) ? n : $"unknown ({id})";

    /// <summary>The id of a file type name (case-insensitive), e.g. "q4_k_m" -> 15.</summary>
    public static bool TryParse(string name, out int id)
    {
        foreach (var (k, v) in Names)
            if (string.Equals(v, name, StringComparison.OrdinalIgnoreCase)) { id = k; return true; }
        id = -1;
        return false;
    }
}
