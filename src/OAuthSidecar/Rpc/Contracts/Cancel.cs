using System.Text.Json;

namespace OAuthSidecar.Rpc.Contracts;

/// <summary>Parameters of <c>$/cancelRequest</c> (LSP): the request to cancel, which then fails with -32800.</summary>
public sealed class CancelRequestParams
{
    /// <summary>Gets the id of the request to cancel (a number or a string).</summary>
    [JsonShape(JsonShape.RequestId)]
    public required JsonElement Id { get; init; }
}
