using LlCuda.Storage.Remotes;

namespace LlCuda.Storage;

/// <summary>Registry credentials from the environment: LLCUDA_REGISTRY_USER and LLCUDA_REGISTRY_PASSWORD (none when the user is unset).</summary>
public static class RegistryCredentials
{
    public static RemoteCredentials? FromEnvironment()
    {
        string? user = Environment.GetEnvironmentVariable("LLCUDA_REGISTRY_USER");
        return string.IsNullOrEmpty(user) ? null : new RemoteCredentials(user, Environment.GetEnvironmentVariable("LLCUDA_REGISTRY_PASSWORD") ?? "");
    }
}
