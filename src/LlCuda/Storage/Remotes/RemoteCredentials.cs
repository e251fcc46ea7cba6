namespace LlCuda.Storage.Remotes;

/// <summary>
/// A user name and password (or access token used as the password, as Docker Hub and GHCR
/// accept). Sent as HTTP Basic to a registry that asks for Basic, or to the bearer token realm
/// when the registry asks for a token.
/// </summary>
public sealed record RemoteCredentials(string Username, string Password)
{
    internal string BasicHeaderValue =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Username}:{Password}"));

    public override string ToString() => $"{Username}:***";
}
