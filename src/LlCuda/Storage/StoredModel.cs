namespace LlCuda.Storage;

/// <summary>A tag as the store sees it: its record, manifest and config, and where its GGUF blob is.</summary>
public sealed record StoredModel(ModelReference Reference, TagRecord Tag, ModelManifest Manifest, ModelConfig Config, string WeightsPath)
{
    public Descriptor Weights => Manifest.Weights;
}

/// <summary>What a put did: the tag, the manifest it points to, the weights, and what the budget evicted.</summary>
public sealed record PutResult(ModelReference Reference, Digest Manifest, Descriptor Weights, IReadOnlyList<ModelReference> Evicted);

/// <summary>What gc removed.</summary>
public sealed record GcResult(int BlobsRemoved, long BytesFreed, int TempFilesRemoved);

/// <summary>One problem verify found: the blob, what is wrong, and which tags use it.</summary>
public sealed record VerifyProblem(Digest Digest, string Problem, IReadOnlyList<ModelReference> UsedBy);

/// <summary>What verify checked and found.</summary>
public sealed record VerifyResult(int BlobsChecked, long BytesChecked, IReadOnlyList<VerifyProblem> Problems);
