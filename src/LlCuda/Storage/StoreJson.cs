using System.Text.Encodings.Web;
using System.Text.Json;

namespace LlCuda.Storage;

/// <summary>How the store writes JSON: compact, and with '+' in media types left as '+'.</summary>
internal static class StoreJson
{
    // The default encoder writes "v1+json" as "v1\u002Bjson": valid JSON, but registries and
    // people grep manifests for the media type. Store JSON never goes into HTML, so the relaxed
    // encoder's caveat does not apply.
    public static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
