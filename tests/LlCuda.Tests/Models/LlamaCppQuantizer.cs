using LLama.Native;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Models;

/// <summary>llama.cpp's own model quantizer (llama_model_quantize through LLamaSharp 0.30.0), the reference for <c>ModelQuantizer</c>.</summary>
internal static class LlamaCppQuantizer
{
    /// <summary>Quantizes <paramref name="input"/> to <paramref name="output"/> with llama.cpp's default parameters (no imatrix).</summary>
    public static void Quantize(string input, string output, LLamaFtype ftype, bool pure = false, bool allowRequantize = false)
    {
        uint rc;
        lock (LlamaCppReference.Gate)
        {
            // NativeApi's static constructor installs LLamaSharp's library resolver.
            NativeApi.llama_empty_call();
            var p = LLamaModelQuantizeParams.Default();
            p.ftype = ftype;
            p.nthread = 2;
            p.pure = pure;
            p.allow_requantize = allowRequantize;
            rc = NativeApi.llama_model_quantize(input, output, ref p);
        }
        Assert.True(rc == 0, $"llama_model_quantize({ftype}) returned {rc} for {input}");
    }

    /// <summary>The llama_ftype of a file type name ("Q4_K_M" -> MOSTLY_Q4_K_M).</summary>
    public static LLamaFtype FileType(string name) => name switch
    {
        "F32" => LLamaFtype.ALL_F32,
        _ => Enum.Parse<LLamaFtype>("MOSTLY_" + name),
    };
}
