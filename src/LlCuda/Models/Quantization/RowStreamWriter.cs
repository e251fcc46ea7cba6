using System.Buffers;
using System.Runtime.ExceptionServices;
using LlCuda.Tensors;

namespace LlCuda.Models.Quantization;

/// <summary>
/// Produces fp32 rows [firstRow, firstRow + rowCount) of a tensor into
/// <paramref name="destination"/> ([rowCount, rowLength] floats, row-major). Called from
/// several threads at once for disjoint row ranges.
/// </summary>
public delegate void RowSource(long firstRow, int rowCount, Span<float> destination);

/// <summary>
/// Streams one tensor into a GGUF data section: rows are produced and quantized in parallel,
/// a batch at a time, while the previous batch is written, so neither the fp32 tensor nor the
/// quantized one is ever held whole (memory: two batch buffers plus one chunk of floats per
/// thread). The bytes do not depend on the thread count: each row is quantized on its own.
/// </summary>
public static class RowStreamWriter
{
    // Floats one worker produces and quantizes per work item (256 KiB): big enough that
    // scheduling costs nothing, small enough to stay in L2.
    const int ChunkElements = 1 << 16;
    // Output bytes per batch (two are in flight: one being filled, one being written).
    const long BatchBytes = 8L << 20;

    /// <summary>Writes <paramref name="rowCount"/> rows of <paramref name="rowLength"/> elements as <paramref name="type"/> to <paramref name="output"/>.</summary>
    /// <param name="threads">Worker threads (0 = one per core).</param>
    /// <param name="onBytesWritten">Called on the calling thread with the bytes of each batch once written.</param>
    public static void Write(Stream output, GgmlType type, long rowLength, long rowCount, RowSource source,
        int threads = 0, Action<long>? onBytesWritten = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(source);
        long rowBytes = GgmlTypeInfo.RowBytes(type, rowLength);
        if (rowLength <= 0 || rowBytes < 0)
            throw new ArgumentException($"row length {rowLength} is not a positive multiple of {type}'s block size {GgmlTypeInfo.BlockSize(type)}", nameof(rowLength));
        if (rowCount == 0) return;

        int rowsPerChunk = (int)Math.Clamp(ChunkElements / rowLength, 1, rowCount);
        long chunksPerBatch = Math.Max(1, BatchBytes / (rowsPerChunk * rowBytes));
        long rowsPerBatch = Math.Min(rowCount, chunksPerBatch * rowsPerChunk);
        int batchBytes = checked((int)(rowsPerBatch * rowBytes));
        int chunkFloats = checked((int)(rowsPerChunk * rowLength));
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount,
            CancellationToken = cancellation,
        };

        byte[][] buffers = [ArrayPool<byte>.Shared.Rent(batchBytes), ArrayPool<byte>.Shared.Rent(batchBytes)];
        Task? pending = null;
        int pendingBytes = 0;
        try
        {
            int which = 0;
            for (long batchStart = 0; batchStart < rowCount; batchStart += rowsPerBatch)
            {
                long batchRows = Math.Min(rowsPerBatch, rowCount - batchStart);
                int chunks = (int)((batchRows + rowsPerChunk - 1) / rowsPerChunk);
                byte[] buffer = buffers[which];
                try
                {
                    Parallel.For(0, chunks, parallel,
                        () => ArrayPool<float>.Shared.Rent(chunkFloats),
                        (chunk, _, floats) =>
                        {
                            long first = batchStart + (long)chunk * rowsPerChunk;
                            int rows = (int)Math.Min(rowsPerChunk, batchStart + batchRows - first);
                            var x = floats.AsSpan(0, checked((int)(rows * rowLength)));
                            source(first, rows, x);
                            var dst = buffer.AsSpan(checked((int)((first - batchStart) * rowBytes)), checked((int)(rows * rowBytes)));
                            for (int r = 0; r < rows; r++)
                                Quantize.Row(type, x.Slice((int)(r * rowLength), (int)rowLength), dst.Slice((int)(r * rowBytes), (int)rowBytes));
                            return floats;
                        },
                        floats => ArrayPool<float>.Shared.Return(floats));
                }
                catch (AggregateException e) when (e.InnerExceptions.Count == 1)
                {
                    ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
                }

                Finish(ref pending, ref pendingBytes, onBytesWritten);
                int length = checked((int)(batchRows * rowBytes));
                pending = Task.Run(() => output.Write(buffer, 0, length), CancellationToken.None);
                pendingBytes = length;
                which ^= 1;
            }
            Finish(ref pending, ref pendingBytes, onBytesWritten);
        }
        finally
        {
            // A failed batch must not leave a write running into a buffer being returned.
            if (pending is not null)
            {
                try { pending.Wait(CancellationToken.None); }
                catch (AggregateException) { /* the first error is already propagating */ }
            }
            ArrayPool<byte>.Shared.Return(buffers[0]);
            ArrayPool<byte>.Shared.Return(buffers[1]);
        }
    }

    // Waits for the write in flight (rethrowing its error) and reports its bytes.
    static void Finish(ref Task? pending, ref int bytes, Action<long>? onBytesWritten)
    {
        if (pending is null) return;
        var task = pending;
        pending = null;
        task.GetAwaiter().GetResult();
        onBytesWritten?.Invoke(bytes);
        bytes = 0;
    }
}
