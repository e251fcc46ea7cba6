namespace LlCuda.Storage.Remotes;

/// <summary>Manifest media types a registry may answer with; all are listed in Accept.</summary>
public static class OciMediaTypes
{
    public const string ImageManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string ImageIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string EmptyJson = "application/vnd.oci.empty.v1+json";
}
