using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

// Compile-time switches for the generic vector kernels. Each is a struct type argument with a
// static constant, so the JIT compiles one specialized body per combination and drops the
// branches that do not apply: the source says a kernel once, the machine code has no tests.

/// <summary>Which int8 product instruction a 256-bit kernel uses.</summary>
internal interface IIsa
{
    /// <summary>True: AVX-VNNI vpdpbusd (u8 x s8 summed in fours into int32, one instruction).</summary>
    static abstract bool Vnni { get; }
}

internal struct Avx2Isa : IIsa { public static bool Vnni => false; }
internal struct VnniIsa : IIsa { public static bool Vnni => true; }

/// <summary>How many activation rows (tokens) one kernel call takes.</summary>
internal interface ITokens { static abstract int Count { get; } }
internal struct OneToken : ITokens { public static int Count => 1; }
internal struct TwoTokens : ITokens { public static int Count => 2; }
internal struct FourTokens : ITokens { public static int Count => 4; }
internal struct EightTokens : ITokens { public static int Count => 8; }

/// <summary>Shared pieces of the vector dot-product kernels.</summary>
internal static unsafe class Simd
{
    // fp16 bits to fp32 for all 65536 patterns (256 KiB): one load per block scale, as ggml's
    // table does without F16C. Set by EnsureInitialized (DotKernels.For calls it before handing
    // out any kernel), deliberately not by a static initializer: NativeAOT guards every read of a
    // static whose class has a static constructor with an initialization check that may call
    // out, and a possible call inside a kernel loop pushed the vector accumulators to the stack.
    // That made the NativeAOT build 2-3x slower than the JIT build (perf: spills around
    // vpdpbusd in the Q4_0 loop); without a static constructor the read is a plain load.
    static nint s_halfToFloat;

    /// <summary>The fp16-to-fp32 table; valid after <see cref="EnsureInitialized"/>.</summary>
    public static float* HalfToFloat
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (float*)s_halfToFloat;
    }

    static float* BuildHalfTable()
    {
        var t = (float*)NativeMemory.AlignedAlloc(65536 * sizeof(float), 64);
        for (int i = 0; i < 65536; i++) t[i] = (float)BitConverter.UInt16BitsToHalf((ushort)i);
        return t;
    }

    /// <summary>Builds the table once (thread-safe; a losing racer frees its copy).</summary>
    public static void EnsureInitialized()
    {
        if (s_halfToFloat != 0) return;
        nint table = (nint)BuildHalfTable();
        if (Interlocked.CompareExchange(ref s_halfToFloat, table, 0) != 0) NativeMemory.AlignedFree((void*)table);
    }

    /// <summary>The fp16 at <paramref name="p"/> as fp32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Half(byte* p) => HalfToFloat[*(ushort*)p];

    /// <summary>
    /// Eight int32 partial sums of u[i] * s[i] (each lane four adjacent products).
    /// Without VNNI: vpmaddubsw to int16 pairs (exact while |u * s| sums of two stay within
    /// int16: u &lt;= 127 for |s| &lt;= 127, so weight codes up to 7 bits), then vpmaddwd by 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotU8S8<TIsa>(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) where TIsa : struct, IIsa
    {
        if (TIsa.Vnni) return AvxVnni.MultiplyWideningAndAdd(acc, u, s);
        return Avx2.Add(acc, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256.Create((short)1)));
    }

    /// <summary>Sixteen int32 partial sums of u[i] * s[i] (vpmaddubsw + vpmaddwd; same range rule as the 256-bit form).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> DotU8S8(Vector512<byte> u, Vector512<sbyte> s) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, s), Vector512.Create((short)1));

    /// <summary>The 32 4-bit codes of 16 packed bytes, low nibbles first (ggml's Q4 order: byte j holds weights j and j + 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Nibbles(byte* p)
    {
        // The 16 bytes in both lanes (one load), the high lane shifted right by 4, both masked:
        // three instructions. Shifting whole dwords moves the next byte's low nibble into each
        // byte's top half, which the mask clears.
        var q = Avx2.BroadcastVector128ToVector256(p).AsUInt32();
        var shifted = Avx2.ShiftRightLogicalVariable(q, Vector256.Create(0u, 0, 0, 0, 4, 4, 4, 4));
        return shifted.AsByte() & Vector256.Create((byte)0x0F);
    }

    /// <summary>
    /// The 64 4-bit codes of two 16-byte packed blocks, each as <see cref="Nibbles"/>: [lo0, hi0, lo1, hi1].
    /// Both are loaded into one register, each spread to two 128-bit lanes, and the odd lanes
    /// shifted by 4: five instructions for 64 codes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Nibbles2(byte* p0, byte* p1)
    {
        var q = Vector256.Create(Vector128.Load(p0), Vector128.Load(p1)).ToVector512Unsafe().AsUInt64();
        var spread = Avx512F.PermuteVar8x64(q, Vector512.Create(0UL, 1, 0, 1, 2, 3, 2, 3));
        var shifted = Avx512F.ShiftRightLogicalVariable(spread, Vector512.Create(0UL, 0, 4, 4, 0, 0, 4, 4));
        return shifted.AsByte() & Vector512.Create((byte)0x0F);
    }

    /// <summary>
    /// [lo, hi] as one 512-bit register. Written as an insert into lo's register: the JIT's
    /// Vector512.Create(lo, hi) inserts both halves into whatever the destination register
    /// held, a false dependency that chained loop iterations (measured: 2x slower Q4_0 matvec).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Join<T>(Vector256<T> lo, Vector256<T> hi) =>
        Avx512F.InsertVector256(lo.ToVector512Unsafe().AsDouble(), hi.AsDouble(), 1).As<double, T>();

    /// <summary>Horizontal sum of eight fp32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> v) => Vector256.Sum(v);
}
