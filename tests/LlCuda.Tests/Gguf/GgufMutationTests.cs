using LlCuda.Gguf;
using LlCuda.Fuzz;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Gguf;

/// <summary>
/// Thousands of mutated copies of stories260K.gguf go through the fuzz target (the same one
/// libFuzzer/AFL drive, see docs/fuzzing.md): each must either open (and then be usable: every
/// tensor readable, vocabulary and hyperparameters loaded or rejected cleanly) or be rejected
/// with a GgufFormatException. Any other exception, a crash
/// or a hang fails the test. The mutator is deterministic (fixed seed) so a failure reproduces.
/// </summary>
public class GgufMutationTests
{
    const int Iterations = 3000;

    [Fact]
    public void Parse_MutatedStories260K_OnlyEverFailsWithFormatErrors()
    {
        var original = File.ReadAllBytes(TestPaths.Stories260K);
        long headerEnd;
        using (var f = GgufFile.Parse(original)) headerEnd = f.DataOffset;
        // Mutations concentrate on the header, where parsing happens; the data section is
        // only cut or extended (its bytes are never interpreted by the reader).
        var rng = new Random(20261125);
        int opened = 0, rejected = 0;
        for (int i = 0; i < Iterations; i++)
        {
            var bytes = GgufMutator.Mutate(original, (int)headerEnd, rng);
            try
            {
                if (GgufFuzzTarget.Run(bytes)) opened++;
                else rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutant {i}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
        // Both outcomes must occur, or the mutator is not exercising the reader.
        Assert.True(opened > Iterations / 20, $"only {opened} mutants opened");
        Assert.True(rejected > Iterations / 4, $"only {rejected} mutants were rejected");
    }

}

/// <summary>Byte-level mutations in the style of AFL's havoc stage.</summary>
internal static class GgufMutator
{
    static readonly ulong[] Interesting = [0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 1UL << 32, 1UL << 60, long.MaxValue, ulong.MaxValue];

    public static byte[] Mutate(byte[] original, int headerEnd, Random rng)
    {
        int n = rng.Next(1, 5);
        var bytes = (byte[])original.Clone();
        for (int k = 0; k < n; k++)
        {
            int at = rng.Next(Math.Max(1, Math.Min(headerEnd, bytes.Length)));
            switch (rng.Next(7))
            {
                case 0: bytes[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: bytes[at] = (byte)rng.Next(256); break;
                case 2 when at + 8 <= bytes.Length:
                    BitConverter.TryWriteBytes(bytes.AsSpan(at), Interesting[rng.Next(Interesting.Length)]);
                    break;
                case 3 when at + 4 <= bytes.Length:
                    BitConverter.TryWriteBytes(bytes.AsSpan(at), (uint)Interesting[rng.Next(Interesting.Length)]);
                    break;
                case 4: bytes = bytes[..rng.Next(bytes.Length)]; break;
                case 5 when at + 16 <= bytes.Length:
                {
                    int len = rng.Next(1, 16);
                    bytes = [.. bytes.AsSpan(0, at), .. bytes.AsSpan(at + len)];
                    break;
                }
                default:
                {
                    var insert = new byte[rng.Next(1, 16)];
                    rng.NextBytes(insert);
                    bytes = [.. bytes.AsSpan(0, at), .. insert, .. bytes.AsSpan(at)];
                    break;
                }
            }
            if (bytes.Length == 0) break;
        }
        return bytes;
    }
}
