namespace LlCuda.Cuda;

/// <summary>A GPU's compute capability (9.0 for H100), which decides what its kernels are compiled for.</summary>
public readonly record struct ComputeCapability(int Major, int Minor)
{
    /// <summary>The architecture number NVRTC uses: 90 for 9.0, 120 for 12.0.</summary>
    public int Sm => Major * 10 + Minor;

    /// <summary>"sm_90".</summary>
    public string RealArchitecture => $"sm_{Sm}";

    /// <summary>From an architecture number (86 -> 8.6, 120 -> 12.0).</summary>
    public static ComputeCapability FromSm(int sm) => new(sm / 10, sm % 10);

    public override string ToString() => $"{Major}.{Minor}";
}
