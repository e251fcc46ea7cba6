namespace LlCuda.Models.Quantization;

/// <summary>How far a model write has come: the tensor being written and the data bytes written so far.</summary>
/// <param name="Tensor">Name of the tensor being written.</param>
/// <param name="TensorIndex">Its position among the file's tensors (0-based).</param>
/// <param name="TensorCount">Tensors in the file.</param>
/// <param name="BytesWritten">Tensor data bytes written so far (padding excluded).</param>
/// <param name="BytesTotal">Tensor data bytes of the whole file.</param>
public readonly record struct ModelWriteProgress(string Tensor, int TensorIndex, int TensorCount, long BytesWritten, long BytesTotal);
