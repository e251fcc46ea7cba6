namespace LlCuda.Storage;

/// <summary>
/// The media types of stored manifests and layers: the OCI image manifest, typed with Docker
/// Model Runner's model types so `docker model` and OCI registries see a model they know.
/// </summary>
public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string ModelConfig = "application/vnd.docker.ai.model.config.v0.1+json";
    public const string Gguf = "application/vnd.docker.ai.gguf.v3";
    public const string License = "application/vnd.docker.ai.license";
}
