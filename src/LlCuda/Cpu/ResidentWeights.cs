using LlCuda.Gguf;
using LlCuda.Interop;
using Microsoft.Win32.SafeHandles;

namespace LlCuda.Cpu;

/// <summary>
/// Weight matrices read out of a GGUF file into one anonymous, huge-page backed region, for the
/// CPU kernels to stream (see <see cref="AnonymousMemory"/> for why that beats the memory map:
/// about 1.5-2x decode on the dev VM). The bytes are read with positioned reads, not through the
/// map, so the copy is the only resident image: peak resident memory stays at about the size of
/// the matrices, not twice it. The layout inside is each tensor's GGUF bytes, 64-byte aligned.
/// </summary>
public sealed unsafe class ResidentWeights : IDisposable
{
    const int Alignment = 64;
    const int ReadChunk = 64 << 20;

    readonly AnonymousMemory _memory;
    readonly Dictionary<string, long> _offsets;

    ResidentWeights(AnonymousMemory memory, Dictionary<string, long> offsets)
    {
        _memory = memory;
        _offsets = offsets;
    }

    /// <summary>Bytes held (all tensors with their alignment padding).</summary>
    public long ByteSize => _memory.Length;

    /// <summary>
    /// Copies <paramref name="tensors"/> (2-D weight matrices; duplicates, e.g. a tied output,
    /// are stored once) out of <paramref name="file"/>.
    /// </summary>
    /// <exception cref="InsufficientMemoryException">Not enough memory for the copy (the message names the size and the --mmap alternative).</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    public static ResidentWeights Load(GgufFile file, IEnumerable<GgufTensorInfo> tensors)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(tensors);
        var offsets = new Dictionary<string, long>();
        var order = new List<GgufTensorInfo>();
        long total = 0;
        foreach (var t in tensors)
        {
            if (offsets.ContainsKey(t.Name)) continue;
            offsets[t.Name] = total;
            order.Add(t);
            total = (total + t.ByteSize + Alignment - 1) / Alignment * Alignment;
        }
        var memory = AnonymousMemory.Allocate(total);
        try
        {
            if (File.Exists(file.Source))
            {
                using SafeFileHandle handle = File.OpenHandle(file.Source, FileMode.Open, FileAccess.Read, FileShare.Read);
                foreach (var t in order) ReadTensor(handle, file, t, memory.Pointer + offsets[t.Name]);
            }
            else
            {
                // A file parsed from memory (tests): copy from its bytes.
                foreach (var t in order) file.GetTensorData(t).CopyTo(new Span<byte>(memory.Pointer + offsets[t.Name], checked((int)t.ByteSize)));
            }
            return new ResidentWeights(memory, offsets);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    static void ReadTensor(SafeFileHandle handle, GgufFile file, GgufTensorInfo t, byte* dst)
    {
        long fileOffset = file.DataOffset + t.Offset;
        for (long done = 0; done < t.ByteSize;)
        {
            int count = (int)Math.Min(ReadChunk, t.ByteSize - done);
            int got = RandomAccess.Read(handle, new Span<byte>(dst + done, count), fileOffset + done);
            if (got <= 0)
                throw new IOException($"{file.Source}: the file ended while reading tensor '{t.Name}' at byte {fileOffset + done} (the file may have been truncated or replaced while loading)");
            done += got;
        }
    }

    /// <summary>The copy of <paramref name="tensor"/> as a weight matrix (valid until Dispose).</summary>
    /// <exception cref="KeyNotFoundException">The tensor was not loaded.</exception>
    public WeightMatrix Bind(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!_offsets.TryGetValue(tensor.Name, out long offset))
            throw new KeyNotFoundException($"tensor '{tensor.Name}' is not among the resident weights");
        return WeightMatrixBinding.At(_memory.Pointer + offset, tensor);
    }

    public void Dispose() => _memory.Dispose();
}
