using System.Globalization;

namespace LlCuda.Cuda.SelfTest;

public static partial class CudaSelfTest
{
    // Leave room for the driver, cuBLAS workspaces and other processes.
    const long BandwidthHeadroomBytes = 256L << 20;
    const long BandwidthMinimumBytes = 64L << 20;
    const byte BandwidthPattern = 0x5A;

    // copy.cu over two buffers of up to 1 GiB: one warm-up, then the median of N timed copies,
    // by events around each launch. GB/s counts bytes read plus bytes written, as DESIGN.md's
    // H100 figure (~2.6 TB/s) does.
    static (string, (double, string)?) CheckBandwidth(CudaContext context, KernelCompiler compiler, SelfTestOptions options)
    {
        var (free, _) = context.GetMemoryInfo();
        long bytes = Math.Min(options.BandwidthBytes, (free - BandwidthHeadroomBytes) / 2) / 16 * 16;
        if (bytes < BandwidthMinimumBytes)
            throw new SelfTestFailure($"only {free >> 20} MiB of GPU memory is free; the bandwidth check needs at least {(2 * BandwidthMinimumBytes + BandwidthHeadroomBytes) >> 20} MiB");
        ulong n4 = (ulong)(bytes / 16);

        using var module = compiler.Load("copy.cu");
        var kernel = module.GetKernel("copy_f4");
        using var stream = CudaStream.Create(context);
        using var source = DeviceBuffer.Allocate(context, bytes, "bandwidth source");
        using var destination = DeviceBuffer.Allocate(context, bytes, "bandwidth destination");
        using var start = CudaEvent.Create(context);
        using var end = CudaEvent.Create(context);
        source.Fill(BandwidthPattern, stream);
        destination.Fill(0, stream);

        // 8 blocks of 256 threads per SM keep enough loads in flight on every SM (copy.cu's header).
        Dim3 grid = (uint)(context.Device.MultiprocessorCount * 8);
        kernel.Launch(stream, grid, 256u, 0, source, destination, n4);   // warm-up: clocks up, TLB filled
        var times = new double[options.BandwidthRepetitions];
        for (int i = 0; i < times.Length; i++)
        {
            start.Record(stream);
            kernel.Launch(stream, grid, 256u, 0, source, destination, n4);
            end.Record(stream);
            end.Synchronize();
            times[i] = CudaEvent.ElapsedMilliseconds(start, end);
        }
        VerifyCopy(destination, stream, bytes);

        Array.Sort(times);
        double medianMs = times[times.Length / 2];
        double gbPerSecond = 2.0 * bytes / (medianMs / 1000.0) / 1e9;
        double peak = context.Device.PeakMemoryBandwidth / 1e9;
        string ofPeak = peak > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({100 * gbPerSecond / peak:F0}% of the {peak:F0} GB/s memory clock x bus width peak)") : "";
        return (string.Create(CultureInfo.InvariantCulture,
            $"copy_f4 over {bytes / (double)(1L << 30):F2} GiB, {grid.X} blocks of 256, median of {times.Length}: {medianMs:F3} ms, {gbPerSecond:F0} GB/s read+write{ofPeak}"),
            (Math.Round(gbPerSecond, 1), "GB/s"));
    }

    // The first and last MiB (and so both ends of the grid-stride loop) must hold the pattern.
    static void VerifyCopy(DeviceBuffer destination, CudaStream stream, long bytes)
    {
        int probe = (int)Math.Min(1L << 20, bytes);
        var host = new byte[probe];
        foreach (long offset in new[] { 0L, bytes - probe })
        {
            destination.CopyToHost<byte>(host, stream, offset);
            stream.Synchronize();
            int bad = host.AsSpan().IndexOfAnyExcept(BandwidthPattern);
            if (bad >= 0) throw new SelfTestFailure($"copy_f4: byte {offset + bad} is 0x{host[bad]:X2} but should be 0x{BandwidthPattern:X2}");
        }
    }
}
