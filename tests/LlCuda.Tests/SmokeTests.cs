using LLama;
using LLama.Common;
using LLama.Native;
namespace LlCuda.Tests;
public class SmokeTests {
  [Fact] public void LlamaSharp_Tokenizes() {
    var p = new ModelParams(LlCuda.Tests.Support.TestPaths.Vocab("llama-spm")) { VocabOnly = true };
    using var w = LLamaWeights.LoadFromFile(p);
    var toks = w.NativeHandle.Tokenize("Hello world", true, false, System.Text.Encoding.UTF8);
    Assert.Equal("1 15043 3186", string.Join(" ", toks.Select(t => (int)t)));
  }
}
