using System.Diagnostics.CodeAnalysis;

namespace LlCuda.Gguf;

/// <summary>
/// The one error every malformed GGUF file ends in. The message names the file, the field and
/// the byte offset where the problem was found, and says what to do.
/// </summary>
public sealed class GgufFormatException : Exception
{
    public GgufFormatException() { }
    public GgufFormatException(string message) : base(message) { }
    public GgufFormatException(string message, Exception inner) : base(message, inner) { }

    public GgufFormatException(string source, string field, long offset, string problem)
        : base($"{source}: {field} at byte {offset:N0}: {problem}")
    {
        Field = field;
        Offset = offset;
    }

    /// <summary>The field being read when the problem was found (e.g. "tensor_count").</summary>
    public string Field { get; } = "";

    /// <summary>Byte offset in the file where that field starts.</summary>
    public long Offset { get; }

    [DoesNotReturn]
    internal static void Throw(string source, string field, long offset, string problem) =>
        throw new GgufFormatException(source, field, offset, problem);
}
