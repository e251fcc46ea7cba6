using System.Runtime.InteropServices;

namespace LlCuda.Cpu;

/// <summary>
/// Reusable buffers for <see cref="CpuMatMul"/>: the activations quantized for integer dot
/// products. Create one per engine thread and pass it to every call; it grows to the largest
/// [n, cols] it has seen and never shrinks, so steady-state calls allocate nothing.
/// Not thread-safe: one MatMul at a time per scratch.
/// </summary>
public sealed unsafe class MatMulScratch : IDisposable
{
    // codes: [n, cols] int8, 64-byte aligned rows when cols % 64 == 0
    // scales: [n, cols / block] fp32 (block = 32 for Q8_0-style, 256 for Q8_K)
    // sums: [n, cols / 32] or [n, cols / 16] int16, sums of codes (see ActivationRows)
    sbyte* _codes;
    float* _scales;
    short* _sums;
    // scale lanes: [n, cols / 4] fp32; sum lanes: [n, cols / 4] int32 (see ActivationRows)
    float* _scaleLanes;
    int* _sumLanes;
    long _codesCapacity, _scalesCapacity, _sumsCapacity, _lanesCapacity, _sumLanesCapacity; // in elements

    /// <summary>Bytes of native memory the scratch holds now.</summary>
    public long AllocatedBytes => _codesCapacity + _scalesCapacity * sizeof(float) + _sumsCapacity * sizeof(short)
        + _lanesCapacity * sizeof(float) + _sumLanesCapacity * sizeof(int);

    /// <summary>Makes room for <paramref name="tokens"/> rows of <paramref name="cols"/> activations in any format.</summary>
    internal void Ensure(int tokens, int cols)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long codes = (long)tokens * cols;
        // Per-32 scales and per-16 sums are the largest any format needs.
        long scales = (long)tokens * ((cols + 31) / 32);
        long sums = (long)tokens * ((cols + 15) / 16);
        Grow(ref _codes, ref _codesCapacity, codes);
        Grow(ref _scales, ref _scalesCapacity, scales);
        Grow(ref _sums, ref _sumsCapacity, sums);
        long lanes = (long)tokens * ((cols + 3) / 4);
        Grow(ref _scaleLanes, ref _lanesCapacity, lanes);
        Grow(ref _sumLanes, ref _sumLanesCapacity, lanes);
    }

    internal sbyte* Codes => _codes;
    internal float* Scales => _scales;
    internal short* Sums => _sums;
    internal float* ScaleLanes => _scaleLanes;
    internal int* SumLanes => _sumLanes;

    static void Grow<T>(ref T* buffer, ref long capacity, long needed) where T : unmanaged
    {
        if (needed <= capacity) return;
        // Room for 64 extra bytes lets vector loops read a whole register past a short tail.
        long count = Math.Max(needed, capacity * 2);
        void* fresh = NativeMemory.AlignedAlloc((nuint)(count * sizeof(T) + 64), 64);
        if (buffer != null) NativeMemory.AlignedFree(buffer);
        buffer = (T*)fresh;
        capacity = count;
    }

    bool _disposed;

    /// <summary>Frees the native buffers.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_codes != null) NativeMemory.AlignedFree(_codes);
        if (_scales != null) NativeMemory.AlignedFree(_scales);
        if (_sums != null) NativeMemory.AlignedFree(_sums);
        if (_scaleLanes != null) NativeMemory.AlignedFree(_scaleLanes);
        if (_sumLanes != null) NativeMemory.AlignedFree(_sumLanes);
        _codes = null; _scales = null; _sums = null; _scaleLanes = null; _sumLanes = null;
        _codesCapacity = _scalesCapacity = _sumsCapacity = _lanesCapacity = _sumLanesCapacity = 0;
        GC.SuppressFinalize(this);
    }

    ~MatMulScratch() => Dispose();
}
