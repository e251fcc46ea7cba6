using LlCuda.Gguf;
using LlCuda.Models;
using LlCuda.Tokenizers;

namespace LlCuda.Fuzz;

/// <summary>
/// The fuzz target: parse bytes as GGUF and use what opens. A GgufFormatException (and a
/// NotSupportedException for an unsupported vocabulary kind) is the expected outcome for bad
/// input; anything else escaping is a bug the fuzzer reports. The xunit mutation test runs the
/// same target over thousands of mutants, so CI checks what the fuzzer checks.
/// </summary>
public static class GgufFuzzTarget
{
    /// <summary>Returns true when the bytes opened as a GGUF file, false when they were rejected cleanly.</summary>
    public static bool Run(ReadOnlySpan<byte> data)
    {
        GgufFile file;
        try
        {
            file = GgufFile.Parse(data.ToArray(), "fuzz.gguf");
        }
        catch (GgufFormatException)
        {
            return false;
        }
        using (file)
        {
            foreach (var t in file.Tensors) _ = file.GetTensorData(t).Length;
            try { _ = ModelHyperparameters.FromGguf(file); }
            catch (GgufFormatException) { }
            try { _ = Vocabulary.FromGguf(file); }
            catch (GgufFormatException) { }
            catch (NotSupportedException) { }
            return true;
        }
    }
}
