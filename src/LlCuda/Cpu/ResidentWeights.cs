using LlCuda.Gguf;
using LlCuda.Interop;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LlCuda.Cpu;

/// <summary>
/// Weight matrices read out of a GGUF file into one anonymous, huge-page backed region, for the
/// CPU kernels to stream (see <see cref="AnonymousMemory"/> for why that beats the memory map:
/// about 1.5-2x decode on the dev VM). The bytes are read with positioned reads, not through the
/// map, so the copy is the only resident image: peak resident memory stays at about the size of
/// the matrices, not twice it. Q4_0 and Q4_K matrices are repacked into 16-row tiles on the way
/// in (<see cref="PackedTiles"/>: about the same size, faster kernels); every other tensor keeps its GGUF
/// bytes. Each tensor starts 64-byte aligned.
/// </summary>
public sealed unsafe class ResidentWeights : IDisposable
{
    const int Alignment = 64;
    const int ReadChunk = 64 << 20;

    readonly AnonymousMemory _memory;
    readonly Dictionary<string, long> _offsets;
    readonly HashSet<string> _packed;

    ResidentWeights(AnonymousMemory memory, Dictionary<string, long> offsets, HashSet<string> packed)
    {
        _memory = memory;
        _offsets = offsets;
        _packed = packed;
    }

    /// <summary>Tensors repacked into 16-row tiles.</summary>
    public int PackedCount => _packed.Count;

    /// <summary>Bytes held (all tensors with their alignment padding).</summary>
    public long ByteSize => _memory.Length;

    /// <summary>
    /// Copies <paramref name="tensors"/> (2-D weight matrices; duplicates, e.g. a tied output,
    /// are stored once) out of <paramref name="file"/>.
    /// </summary>
    /// <exception cref="InsufficientMemoryException">Not enough memory for the copy (the message names the size and the --mmap alternative).</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    /// <param name="file">The model.</param>
    /// <param name="tensors">2-D weight matrices to hold.</param>
    /// <param name="repack">Repack Q4_0 and Q4_K matrices into 16-row tiles (false: GGUF bytes only, e.g. for the scalar kernels).</param>
    public static ResidentWeights Load(GgufFile file, IEnumerable<GgufTensorInfo> tensors, bool repack = true)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(tensors);
        var offsets = new Dictionary<string, long>();
        var packed = new HashSet<string>();
        var order = new List<GgufTensorInfo>();
        long total = 0, largestPacked = 0;
        foreach (var t in tensors)
        {
            if (offsets.ContainsKey(t.Name)) continue;
            var (rows, cols) = WeightMatrixBinding.Shape(t);
            long bytes = t.ByteSize;
            if (repack && PackedTiles.CanPack(t.Type))
            {
                packed.Add(t.Name);
                bytes = PackedTiles.Bytes(t.Type, rows, cols);
                largestPacked = Math.Max(largestPacked, t.ByteSize);
            }
            offsets[t.Name] = total;
            order.Add(t);
            total = (total + bytes + Alignment - 1) / Alignment * Alignment;
        }
        var memory = AnonymousMemory.Allocate(total);
        // GGUF bytes of the tensor being repacked (the largest such tensor, freed at the end).
        byte* staging = largestPacked > 0 ? (byte*)NativeMemory.AlignedAlloc((nuint)largestPacked, Alignment) : null;
        try
        {
            using SafeFileHandle? handle = File.Exists(file.Source) ? File.OpenHandle(file.Source, FileMode.Open, FileAccess.Read, FileShare.Read) : null;
            foreach (var t in order)
            {
                byte* dst = memory.Pointer + offsets[t.Name];
                bool pack = packed.Contains(t.Name);
                byte* raw = pack ? staging : dst;
                if (handle is not null) ReadTensor(handle, file, t, raw);
                else file.GetTensorData(t).CopyTo(new Span<byte>(raw, checked((int)t.ByteSize))); // parsed from memory (tests)
                if (pack) PackedTiles.Pack(WeightMatrixBinding.At(raw, t), dst);
            }
            return new ResidentWeights(memory, offsets, packed);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
        finally
        {
            if (staging != null) NativeMemory.AlignedFree(staging);
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
        var rows = WeightMatrixBinding.At(_memory.Pointer + offset, tensor);
        return _packed.Contains(tensor.Name) ? new WeightMatrix(rows.Data, rows, WeightLayout.Tiles16) : rows;
    }

    public void Dispose() => _memory.Dispose();
}
