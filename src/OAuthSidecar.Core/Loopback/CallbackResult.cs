using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Loopback;

/// <summary>
/// What the loopback server received from the browser: callback.py's result shape.
/// </summary>
/// <param name="Params">The parameters: query (GET), form (POST <c>form_post</c>), JSON body and <c>#fragment</c> values merged; <c>format</c> is a reply directive and is left out.</param>
/// <param name="Method"><c>GET</c> or <c>POST</c>.</param>
/// <param name="Path">The request path, e.g. <c>/callback</c>.</param>
/// <param name="ReceivedAt">When it arrived, in Unix seconds.</param>
public sealed record CallbackResult(IReadOnlyDictionary<string, string> Params, string Method, string Path, long ReceivedAt)
{
    /// <summary>Gets a value indicating whether the callback completes a wait: it carries a code, a token or an error.</summary>
    public bool IsComplete =>
        this.Params.ContainsKey("code") || this.Params.ContainsKey("error")
        || this.Params.ContainsKey("access_token") || this.Params.ContainsKey("id_token");

    /// <summary>Gets a value indicating whether the callback reports an error (RFC 6749 §4.1.2.1).</summary>
    public bool IsError => this.Params.ContainsKey("error");
}

/// <summary>
/// Something waiting for a callback on a loopback listener: an authorization code flow (matched by
/// <c>state</c>) or a standalone callback server (matches any complete callback on its path).
/// </summary>
public interface ICallbackTarget
{
    /// <summary>Gets the path this target listens on, e.g. <c>/callback</c>.</summary>
    string Path { get; }

    /// <summary>Gets the <c>state</c> a callback must carry, or <see langword="null"/> to accept any callback on the path.</summary>
    string? State { get; }

    /// <summary>Gets the pages shown to the browser.</summary>
    CallbackPages Pages { get; }

    /// <summary>Gets the callback that completed this target, if one did.</summary>
    CallbackResult? Result { get; }

    /// <summary>Offers a callback that matched <see cref="Path"/> and <see cref="State"/>.</summary>
    /// <param name="result">The callback.</param>
    /// <returns><see langword="true"/> when this call completed the target; <see langword="false"/> when it was already complete.</returns>
    bool TryComplete(CallbackResult result);
}
