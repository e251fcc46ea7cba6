using System.Runtime.CompilerServices;

namespace LlCuda.Tensors.Quants;

// Fixed-length element buffers for the quant block structs. InlineArray keeps the block
// layout byte-exact (no padding, no header) while indexing and Span conversion stay safe.
// Each name says element type and count; the blocks that use them say what the bytes mean.

/// <summary>4 bytes (Q5_0/Q5_1 high bits).</summary>
[InlineArray(4)]
public struct Bytes4 { byte _e0; }

/// <summary>12 bytes (packed 6-bit scales of Q3_K/Q4_K/Q5_K).</summary>
[InlineArray(12)]
public struct Bytes12 { byte _e0; }

/// <summary>16 bytes.</summary>
[InlineArray(16)]
public struct Bytes16 { byte _e0; }

/// <summary>32 bytes.</summary>
[InlineArray(32)]
public struct Bytes32 { byte _e0; }

/// <summary>64 bytes.</summary>
[InlineArray(64)]
public struct Bytes64 { byte _e0; }

/// <summary>128 bytes.</summary>
[InlineArray(128)]
public struct Bytes128 { byte _e0; }

/// <summary>16 signed bytes (Q6_K sub-block scales).</summary>
[InlineArray(16)]
public struct SBytes16 { sbyte _e0; }

/// <summary>32 signed bytes (Q8_0/Q8_1 quants).</summary>
[InlineArray(32)]
public struct SBytes32 { sbyte _e0; }

/// <summary>256 signed bytes (Q8_K quants).</summary>
[InlineArray(256)]
public struct SBytes256 { sbyte _e0; }

/// <summary>16 little-endian int16 (Q8_K sums of 16 quants).</summary>
[InlineArray(16)]
public struct Int16x16 { short _e0; }
