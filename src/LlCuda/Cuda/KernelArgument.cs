using System.Runtime.InteropServices;

namespace LlCuda.Cuda;

/// <summary>
/// One kernel parameter's value, as the 8 bytes cuLaunchKernel reads it from. The driver
/// copies as many bytes as the kernel's parameter has (4 for int/float/unsigned, 8 for
/// pointers and 64-bit integers), from the start of the slot; x86-64 is little-endian, so
/// the low bytes of the slot are the value. Signed integers are sign-extended, so an int
/// passed to a `long long` parameter keeps its value. Structs larger than 8 bytes are not
/// supported (no kernel needs them yet).
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 8)]
public readonly struct KernelArgument
{
    readonly ulong _bits;

    KernelArgument(ulong bits) => _bits = bits;

    /// <summary>The raw slot (tests).</summary>
    public ulong Bits => _bits;

    public static implicit operator KernelArgument(DeviceBuffer buffer) => new(buffer.Address);
    public static implicit operator KernelArgument(int value) => new((ulong)(long)value);
    public static implicit operator KernelArgument(uint value) => new(value);
    public static implicit operator KernelArgument(long value) => new((ulong)value);
    public static implicit operator KernelArgument(ulong value) => new(value);
    public static implicit operator KernelArgument(float value) => new(BitConverter.SingleToUInt32Bits(value));

    public static KernelArgument FromDeviceBuffer(DeviceBuffer buffer) => buffer;
    public static KernelArgument FromInt32(int value) => value;
    public static KernelArgument FromUInt32(uint value) => value;
    public static KernelArgument FromInt64(long value) => value;
    public static KernelArgument FromUInt64(ulong value) => value;
    public static KernelArgument FromSingle(float value) => value;
}
