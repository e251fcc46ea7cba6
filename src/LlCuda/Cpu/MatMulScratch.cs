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
    // scale lanes, correction lanes: [n, cols / 4] fp32 each (see ActivationRows)
    float* _scaleLanes;
    float* _corrLanes;
    // offset sums: [n, cols / 32] int32, offset * sum of each block (row-interleaved kernels)
    int* _offsetSums;
    long _codesCapacity, _scalesCapacity, _sumsCapacity, _lanesCapacity, _corrLanesCapacity, _offsetSumsCapacity; // in elements
    // Per worker thread: one decoded, row-interleaved weight tile (see InterleavedTile).
    byte** _tiles;      // [_tileCount] native array, so unmanaged jobs can carry it
    int _tileCount;
    long _tileCapacity; // bytes per worker

    /// <summary>Bytes of native memory the scratch holds now.</summary>
    public long AllocatedBytes => _codesCapacity + _scalesCapacity * sizeof(float) + _sumsCapacity * sizeof(short)
        + _lanesCapacity * sizeof(float) + _corrLanesCapacity * sizeof(float) + _offsetSumsCapacity * sizeof(int)
        + _tileCount * _tileCapacity;

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
        Grow(ref _corrLanes, ref _corrLanesCapacity, lanes);
        Grow(ref _offsetSums, ref _offsetSumsCapacity, scales);
    }

    /// <summary>Makes room for one <paramref name="bytes"/>-byte tile per worker (0 .. workers - 1).</summary>
    internal void EnsureTiles(int workers, long bytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (workers <= _tileCount && bytes <= _tileCapacity) return;
        long capacity = Math.Max(bytes, _tileCapacity);
        int count = Math.Max(workers, _tileCount);
        FreeTiles();
        _tiles = (byte**)NativeMemory.Alloc((nuint)count, (nuint)sizeof(byte*));
        for (int i = 0; i < count; i++) _tiles[i] = (byte*)NativeMemory.AlignedAlloc((nuint)capacity + 64, 64);
        _tileCount = count;
        _tileCapacity = capacity;
    }

    /// <summary>The workers' tile buffers (after EnsureTiles): Tiles[worker].</summary>
    internal byte** Tiles => _tiles;

    void FreeTiles()
    {
        for (int i = 0; i < _tileCount; i++) NativeMemory.AlignedFree(_tiles[i]);
        if (_tiles != null) NativeMemory.Free(_tiles);
        _tiles = null;
        _tileCount = 0;
        _tileCapacity = 0;
    }

    internal sbyte* Codes => _codes;
    internal float* Scales => _scales;
    internal short* Sums => _sums;
    internal float* ScaleLanes => _scaleLanes;
    internal float* CorrLanes => _corrLanes;
    internal int* OffsetSums => _offsetSums;

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
        if (_corrLanes != null) NativeMemory.AlignedFree(_corrLanes);
        if (_offsetSums != null) NativeMemory.AlignedFree(_offsetSums);
        FreeTiles();
        _codes = null; _scales = null; _sums = null; _scaleLanes = null; _corrLanes = null; _offsetSums = null;
        _codesCapacity = _scalesCapacity = _sumsCapacity = _lanesCapacity = _corrLanesCapacity = _offsetSumsCapacity = 0;
        GC.SuppressFinalize(this);
    }

    ~MatMulScratch() => Dispose();
}
