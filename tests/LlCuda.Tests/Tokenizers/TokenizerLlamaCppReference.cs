using System.Runtime.InteropServices;
using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Tokenizers;

/// <summary>
/// llama.cpp's own tokenizer (through LLamaSharp, vocabulary-only load) as the reference.
/// LLamaSharp's native calls are not thread-safe: every call takes the tests' one native lock
/// (<see cref="LlCuda.Tests.Support.LlamaCppReference.Gate"/>), and the model stays loaded across calls.
/// llama_detokenize is internal in LLamaSharp, so it is called straight from the loaded libllama.
/// </summary>
public sealed unsafe class TokenizerLlamaCppReference : IDisposable
{
    static Lock Gate => LlCuda.Tests.Support.LlamaCppReference.Gate;
    readonly LLamaWeights _weights;
    readonly IntPtr _vocab; // const llama_vocab *
    static delegate* unmanaged[Cdecl]<IntPtr, int*, int, byte*, int, byte, byte, int> s_detokenize;

    public TokenizerLlamaCppReference(string ggufPath)
    {
        lock (Gate)
        {
            _weights = LLamaWeights.LoadFromFile(new ModelParams(ggufPath) { VocabOnly = true });
            IntPtr llama = LoadedLibllama();
            var getVocab = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)NativeLibrary.GetExport(llama, "llama_model_get_vocab");
            s_detokenize = (delegate* unmanaged[Cdecl]<IntPtr, int*, int, byte*, int, byte, byte, int>)NativeLibrary.GetExport(llama, "llama_detokenize");
            _vocab = getVocab(_weights.NativeHandle.DangerousGetHandle());
        }
    }

    public int Count { get { lock (Gate) return _weights.NativeHandle.Vocab.Count; } }

    /// <summary>llama_tokenize(text, add_special, parse_special).</summary>
    public int[] Tokenize(string text, bool addSpecial, bool parseSpecial)
    {
        lock (Gate)
            return [.. _weights.NativeHandle.Tokenize(text, addSpecial, parseSpecial, Encoding.UTF8).Select(t => (int)t)];
    }

    /// <summary>llama_token_to_piece(id, lstrip 0, special).</summary>
    public byte[] TokenToPiece(int id, bool special)
    {
        lock (Gate)
        {
            var buffer = new byte[256];
            uint n = _weights.NativeHandle.TokenToSpan(id, buffer, 0, special);
            if (n > buffer.Length)
            {
                buffer = new byte[n];
                n = _weights.NativeHandle.TokenToSpan(id, buffer, 0, special);
            }
            return buffer[..(int)n];
        }
    }

    /// <summary>llama_detokenize(ids, remove_special, unparse_special).</summary>
    public byte[] Detokenize(int[] ids, bool removeSpecial, bool unparseSpecial)
    {
        lock (Gate)
        {
            var buffer = new byte[ids.Length * 64 + 64];
            fixed (int* tokens = ids)
            fixed (byte* text = buffer)
            {
                int n = s_detokenize(_vocab, tokens, ids.Length, text, buffer.Length, removeSpecial ? (byte)1 : (byte)0, unparseSpecial ? (byte)1 : (byte)0);
                if (n < 0)
                    throw new InvalidOperationException($"llama_detokenize needs {-n} bytes, buffer has {buffer.Length}");
                return buffer[..n];
            }
        }
    }

    /// <summary>llama_vocab_get_attr(id), as our <see cref="LlCuda.Tokenizers.TokenAttributes"/> bits.</summary>
    public int Attributes(int id)
    {
        lock (Gate)
            return (int)((LLamaToken)id).GetAttributes(_weights.NativeHandle.Vocab);
    }

    /// <summary>llama_vocab_is_eog(id).</summary>
    public bool IsEndOfGeneration(int id)
    {
        lock (Gate)
            return ((LLamaToken)id).IsEndOfGeneration(_weights.NativeHandle.Vocab);
    }

    public void Dispose()
    {
        lock (Gate)
            _weights.Dispose();
    }

    // The libllama that LLamaSharp picked (it chooses among avx/avx2/avx512 builds at run time).
    static IntPtr LoadedLibllama()
    {
        string? path = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts.Length >= 6 && parts[5].EndsWith("/libllama.so", StringComparison.Ordinal))
            .Select(parts => parts[5])
            .FirstOrDefault();
        return path is null
            ? throw new InvalidOperationException("libllama.so is not loaded: load a model through LLamaSharp first")
            : NativeLibrary.Load(path);
    }
}
