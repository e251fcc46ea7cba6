namespace LlCuda.Models.Quantization;

/// <summary>
/// Adds a plan's tensors to a GGUF writer with data callbacks that stream (converted through
/// <see cref="RowStreamWriter"/>, or copied in bounded chunks) and report progress; the writer
/// calls them one tensor after another when it writes the file.
/// </summary>
internal sealed class StreamingTensorSink(Gguf.GgufWriter writer, int tensorCount, long bytesTotal, int threads,
    Action<ModelWriteProgress>? progress, CancellationToken cancellation)
{
    long _written;
    int _index;

    /// <summary>A tensor whose rows come from <paramref name="source"/> as fp32 and are quantized to the plan's type.</summary>
    public void AddConverted(TensorPlan plan, RowSource source)
    {
        int index = _index++;
        var t = plan.Tensor;
        writer.AddTensor(t.Name, plan.TargetType, t.Dimensions, plan.TargetBytes, stream =>
        {
            Report(t.Name, index, 0);
            RowStreamWriter.Write(stream, plan.TargetType, t.RowLength, t.RowCount, source, threads,
                bytes => Report(t.Name, index, bytes), cancellation);
        });
    }

    /// <summary>A tensor copied as is: <paramref name="copyRows"/>(first row, row count, output) writes those rows' bytes.</summary>
    public void AddCopied(TensorPlan plan, Action<long, int, Stream> copyRows)
    {
        int index = _index++;
        var t = plan.Tensor;
        writer.AddTensor(t.Name, t.Type, t.Dimensions, plan.TargetBytes, stream =>
        {
            Report(t.Name, index, 0);
            // Bounded copies: a mapped tensor can be larger than a span can address.
            long rowBytes = plan.TargetBytes / Math.Max(1, t.RowCount);
            int step = (int)Math.Clamp((8L << 20) / Math.Max(1, rowBytes), 1, Math.Max(1, t.RowCount));
            for (long r = 0; r < t.RowCount; r += step)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = (int)Math.Min(step, t.RowCount - r);
                copyRows(r, n, stream);
                Report(t.Name, index, n * rowBytes);
            }
        });
    }

    void Report(string name, int index, long bytes)
    {
        _written += bytes;
        progress?.Invoke(new ModelWriteProgress(name, index, tensorCount, _written, bytesTotal));
    }
}
