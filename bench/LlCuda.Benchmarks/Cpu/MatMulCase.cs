using System.Runtime.InteropServices;
using LlCuda.Cpu;
using LlCuda.Tensors;

namespace LlCuda.Benchmarks.Cpu;

/// <summary>
/// One matmul to time, set up once: a [rows, cols] weight matrix of one type in native memory,
/// n activation rows, our kernel (one thread) and ggml-cpu's vec_dot over the same bytes.
/// </summary>
internal sealed unsafe class MatMulCase : IDisposable
{
    public GgmlType Type { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int N { get; }
    /// <summary>Weight bytes one product reads.</summary>
    public long WeightBytes { get; }

    readonly byte* _w;              // [rows, cols] in Type's layout
    readonly float[] _x;            // [n, cols]
    readonly float[] _y;            // [n, rows]
    readonly byte* _xq;             // [n, cols] in ggml's vec_dot_type
    readonly long _xqRowBytes;
    readonly MatMulScratch _scratch = new();
    readonly CpuThreadPool _pool;
    readonly WeightMatrix _matrix;
    readonly delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void> _vecDot;
    readonly delegate* unmanaged<float*, byte*, long, void> _fromFloat;

    public MatMulCase(GgmlType type, int rows, int cols, int n, int threads = 1)
    {
        Type = type; Rows = rows; Cols = cols; N = n;
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols);
        WeightBytes = rowBytes * rows;
        _w = (byte*)NativeMemory.AlignedAlloc((nuint)WeightBytes, 64);
        // Real quantized rows (random normals), 64 distinct ones tiled over the matrix: quantizing
        // 65M weights in scalar code would take minutes, and speed does not depend on values.
        var rng = new Random(1);
        int distinct = Math.Min(rows, 64);
        var f = new float[cols];
        for (int r = 0; r < distinct; r++)
        {
            for (int c = 0; c < cols; c++) f[c] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
            Quantize.Row(type, f, new Span<byte>(_w + r * rowBytes, (int)rowBytes));
        }
        for (int r = distinct; r < rows; r++)
            Buffer.MemoryCopy(_w + (r % distinct) * rowBytes, _w + r * rowBytes, rowBytes, rowBytes);
        _x = new float[n * cols];
        for (int i = 0; i < _x.Length; i++) _x[i] = (float)(rng.NextDouble() * 2 - 1);
        _y = new float[n * rows];
        var vdt = GgmlCpu.VecDotType(type);
        _xqRowBytes = GgmlTypeInfo.RowBytes(vdt, cols);
        _xq = (byte*)NativeMemory.AlignedAlloc((nuint)(_xqRowBytes * n), 64);
        _vecDot = GgmlCpu.VecDot(type);
        _fromFloat = type == GgmlType.F32 ? null : GgmlCpu.FromFloat(type);
        _pool = new CpuThreadPool(threads);
        _matrix = new WeightMatrix(_w, type, rows, cols);
    }

    public override string ToString() => $"{Type} {Rows}x{Cols} n={N}";

    /// <summary>Ours: CpuMatMul.MatMul on the pool (activation quantization included).</summary>
    public void Ours() => CpuMatMul.MatMul(_matrix, _x, N, _y, _scratch, _pool);

    /// <summary>Ours on a forced kernel path.</summary>
    internal void Ours(KernelPath path) => CpuMatMul.MatMul(_matrix, _x, N, _y, _scratch, _pool, path);

    /// <summary>
    /// ggml: the activations converted by ggml-cpu's from_float, then vec_dot per (row, token) in
    /// 16 x 16 tiles, the loop ggml_compute_forward_mul_mat runs on x86 (one thread, no repacking).
    /// </summary>
    public void Ggml()
    {
        long rowBytes = _matrix.RowBytes;
        fixed (float* x = _x)
        fixed (float* y = _y)
        {
            byte* xq = _fromFloat == null ? (byte*)x : _xq;
            long xqRow = _fromFloat == null ? Cols * 4L : _xqRowBytes;
            if (_fromFloat != null)
                for (int t = 0; t < N; t++) _fromFloat(x + (long)t * Cols, _xq + t * _xqRowBytes, Cols);
            for (int t0 = 0; t0 < N; t0 += 16)
                for (int r0 = 0; r0 < Rows; r0 += 16)
                    for (int t = t0; t < Math.Min(N, t0 + 16); t++)
                        for (int r = r0; r < Math.Min(Rows, r0 + 16); r++)
                            _vecDot(Cols, y + (long)t * Rows + r, 0, _w + r * rowBytes, 0, xq + t * xqRow, 0, 1);
        }
    }

    /// <summary>Largest |ours - ggml| relative to max |ggml| (a sanity check that both compute the same product).</summary>
    public double Disagreement()
    {
        Ggml();
        var reference = (float[])_y.Clone();
        Ours();
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < _y.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(_y[i] - reference[i]));
            maxRef = Math.Max(maxRef, Math.Abs(reference[i]));
        }
        return maxDiff / maxRef;
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_w);
        NativeMemory.AlignedFree(_xq);
        _scratch.Dispose();
        _pool.Dispose();
    }
}
