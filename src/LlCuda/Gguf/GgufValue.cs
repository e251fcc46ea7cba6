using System.Collections;
using System.Globalization;

namespace LlCuda.Gguf;

/// <summary>
/// One metadata value with its GGUF type tag. Scalars are boxed .NET values of the matching
/// type (byte, sbyte, ushort, short, uint, int, float, bool, string, ulong, long, double);
/// arrays are typed .NET arrays (byte[] ... string[]), and arrays of arrays are GgufValue[].
/// The tag is kept so a file written back carries exactly the types it was read with.
/// </summary>
public sealed class GgufValue
{
    GgufValue(GgufValueType type, GgufValueType elementType, object value)
    {
        Type = type;
        ElementType = elementType;
        Value = value;
    }

    /// <summary>The value's type tag.</summary>
    public GgufValueType Type { get; }

    /// <summary>The element type tag of an array (meaningless for scalars).</summary>
    public GgufValueType ElementType { get; }

    /// <summary>The boxed scalar or the typed array.</summary>
    public object Value { get; }

    /// <summary>Number of elements of an array value; 1 for a scalar.</summary>
    public int Count => Value is Array a && Type == GgufValueType.Array ? a.Length : 1;

    public static GgufValue Of(byte v) => new(GgufValueType.UInt8, default, v);
    public static GgufValue Of(sbyte v) => new(GgufValueType.Int8, default, v);
    public static GgufValue Of(ushort v) => new(GgufValueType.UInt16, default, v);
    public static GgufValue Of(short v) => new(GgufValueType.Int16, default, v);
    public static GgufValue Of(uint v) => new(GgufValueType.UInt32, default, v);
    public static GgufValue Of(int v) => new(GgufValueType.Int32, default, v);
    public static GgufValue Of(float v) => new(GgufValueType.Float32, default, v);
    public static GgufValue Of(bool v) => new(GgufValueType.Bool, default, v);
    public static GgufValue Of(string v) => new(GgufValueType.String, default, v ?? throw new ArgumentNullException(nameof(v)));
    public static GgufValue Of(ulong v) => new(GgufValueType.UInt64, default, v);
    public static GgufValue Of(long v) => new(GgufValueType.Int64, default, v);
    public static GgufValue Of(double v) => new(GgufValueType.Float64, default, v);

    public static GgufValue Of(byte[] v) => Array(GgufValueType.UInt8, v);
    public static GgufValue Of(sbyte[] v) => Array(GgufValueType.Int8, v);
    public static GgufValue Of(ushort[] v) => Array(GgufValueType.UInt16, v);
    public static GgufValue Of(short[] v) => Array(GgufValueType.Int16, v);
    public static GgufValue Of(uint[] v) => Array(GgufValueType.UInt32, v);
    public static GgufValue Of(int[] v) => Array(GgufValueType.Int32, v);
    public static GgufValue Of(float[] v) => Array(GgufValueType.Float32, v);
    public static GgufValue Of(bool[] v) => Array(GgufValueType.Bool, v);
    public static GgufValue Of(string[] v) => Array(GgufValueType.String, v);
    public static GgufValue Of(ulong[] v) => Array(GgufValueType.UInt64, v);
    public static GgufValue Of(long[] v) => Array(GgufValueType.Int64, v);
    public static GgufValue Of(double[] v) => Array(GgufValueType.Float64, v);

    /// <summary>An array whose elements are arrays (GGUF allows nesting).</summary>
    public static GgufValue Of(GgufValue[] v) => Array(GgufValueType.Array, v);

    static GgufValue Array(GgufValueType elementType, Array v) =>
        new(GgufValueType.Array, elementType, v ?? throw new ArgumentNullException(nameof(v)));

    /// <summary>The string of a string value.</summary>
    public string AsString() => Value as string ?? throw Mismatch("a string");

    /// <summary>Any integer value (8 to 64 bits, signed or not) as a long.</summary>
    public long AsInt64() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        ulong v => throw new InvalidOperationException($"GGUF value {v} does not fit a signed 64-bit integer"),
        _ => throw Mismatch("an integer"),
    };

    /// <summary>Any numeric value (integer or float) as a double.</summary>
    public double AsDouble() => Value switch
    {
        float v => v,
        double v => v,
        ulong v => v,
        byte or sbyte or ushort or short or uint or int or long => AsInt64(),
        _ => throw Mismatch("a number"),
    };

    /// <summary>The value of a bool.</summary>
    public bool AsBool() => Value is bool b ? b : throw Mismatch("a bool");

    /// <summary>The elements of an array whose element type is exactly T.</summary>
    public T[] AsArray<T>() => Value as T[] ?? throw Mismatch($"an array of {typeof(T).Name}");

    InvalidOperationException Mismatch(string expected) =>
        new($"GGUF value is {Describe()}, expected {expected}");

    /// <summary>"uint32", "array of string[32000]" and so on.</summary>
    public string Describe() => Type == GgufValueType.Array
        ? $"array of {ElementType.ToString().ToLowerInvariant()}[{Count}]"
        : Type.ToString().ToLowerInvariant();

    /// <summary>Deep comparison of type tags and contents (floats compared bit for bit).</summary>
    public bool ContentEquals(GgufValue other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (Type != other.Type) return false;
        if (Type != GgufValueType.Array) return ScalarEquals(Value, other.Value);
        if (ElementType != other.ElementType) return false;
        var a = (IList)Value;
        var b = (IList)other.Value;
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
        {
            bool same = a[i] is GgufValue x ? x.ContentEquals((GgufValue)b[i]!) : ScalarEquals(a[i]!, b[i]!);
            if (!same) return false;
        }
        return true;
    }

    static bool ScalarEquals(object a, object b) => (a, b) switch
    {
        (float x, float y) => BitConverter.SingleToInt32Bits(x) == BitConverter.SingleToInt32Bits(y),
        (double x, double y) => BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y),
        _ => a.Equals(b),
    };

    /// <summary>A short human-readable form: scalars in full, arrays abbreviated.</summary>
    public override string ToString() => Type switch
    {
        GgufValueType.String => (string)Value,
        GgufValueType.Float32 => ((float)Value).ToString("R", CultureInfo.InvariantCulture),
        GgufValueType.Float64 => ((double)Value).ToString("R", CultureInfo.InvariantCulture),
        GgufValueType.Bool => (bool)Value ? "true" : "false",
        GgufValueType.Array => Describe(),
        _ => Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "",
    };
}
