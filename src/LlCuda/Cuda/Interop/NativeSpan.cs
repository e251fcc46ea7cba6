namespace LlCuda.Cuda.Interop;

/// <summary>
/// Spans over memory the CUDA driver allocated (pinned host buffers). Kept here so the one
/// pointer-to-span conversion lives in the interop folder and the wrappers need no unsafe code.
/// </summary>
internal static unsafe class NativeSpan
{
    /// <summary>A span of <paramref name="count"/> T at <paramref name="address"/>; the caller guarantees the memory outlives the span.</summary>
    public static Span<T> Create<T>(nint address, int count) where T : unmanaged => new((void*)address, count);
}
