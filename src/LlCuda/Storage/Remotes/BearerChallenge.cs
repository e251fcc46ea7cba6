namespace LlCuda.Storage.Remotes;

/// <summary>
/// The parameters of a <c>WWW-Authenticate: Bearer realm="...",service="...",scope="..."</c>
/// challenge (the Docker token flow that Docker Hub, GHCR, Harbor and distribution use).
/// </summary>
internal sealed record BearerChallenge(string Realm, string? Service, string? Scope)
{
    /// <summary>Parses the parameter list after "Bearer "; null when no realm is given.</summary>
    public static BearerChallenge? Parse(string? parameters)
    {
        if (string.IsNullOrEmpty(parameters)) return null;
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        while (i < parameters.Length)
        {
            while (i < parameters.Length && (parameters[i] == ',' || char.IsWhiteSpace(parameters[i]))) i++;
            int eq = parameters.IndexOf('=', i);
            if (eq < 0) break;
            string key = parameters[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < parameters.Length && parameters[i] == '"')
            {
                // Quoted: scope lists such as "repository:a:pull,push" contain commas.
                var sb = new System.Text.StringBuilder();
                i++;
                while (i < parameters.Length && parameters[i] != '"')
                {
                    if (parameters[i] == '\\' && i + 1 < parameters.Length) i++;
                    sb.Append(parameters[i++]);
                }
                i++;
                value = sb.ToString();
            }
            else
            {
                int end = parameters.IndexOf(',', i);
                if (end < 0) end = parameters.Length;
                value = parameters[i..end].Trim();
                i = end;
            }
            values[key] = value;
        }
        return values.TryGetValue("realm", out var realm) && realm.Length > 0
            ? new BearerChallenge(realm, values.GetValueOrDefault("service"), values.GetValueOrDefault("scope"))
            : null;
    }

    /// <summary>The token request: realm?service=...&amp;scope=... (each scope word its own parameter).</summary>
    public Uri TokenUri()
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(Service)) query.Add("service=" + Uri.EscapeDataString(Service));
        if (!string.IsNullOrEmpty(Scope))
            foreach (var s in Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                query.Add("scope=" + Uri.EscapeDataString(s));
        string sep = Realm.Contains('?') ? "&" : "?";
        return new Uri(query.Count == 0 ? Realm : Realm + sep + string.Join('&', query));
    }
}
