using System.Text.Json.Serialization;

namespace OAuthSidecar.Rpc.Contracts;

/// <summary>Where the sidecar runs (<c>initialize</c>'s <c>capabilities.environment</c>), so a caller can see why a sign-in method was chosen.</summary>
public sealed class EnvironmentInfo
{
    /// <summary>Gets a value indicating whether this is a remote session (SSH, a Codespace, a VS Code remote, Gitpod, Cloud Shell): the user's browser is on another machine.</summary>
    public required bool Remote { get; init; }

    /// <summary>Gets a value indicating whether this runs under WSL.</summary>
    public required bool Wsl { get; init; }

    /// <summary>Gets a value indicating whether this runs inside a container (its 127.0.0.1 is not the host's).</summary>
    public required bool Container { get; init; }

    /// <summary>Gets a value indicating whether the sidecar can open a browser that reaches its loopback server (a caller that declared <c>showDocument</c> may open one anyway).</summary>
    public required bool CanOpenBrowser { get; init; }

    /// <summary>Gets why <see cref="CanOpenBrowser"/> is false, as a clause.</summary>
    public string? Reason { get; init; }
}

/// <summary>How <c>getCredentials</c>' user signed in (its result's <c>method</c>).</summary>
[JsonConverter(typeof(WireEnumConverter<SignInMethodDto>))]
public enum SignInMethodDto
{
    /// <summary>A stored access token: no sign-in.</summary>
    [JsonStringEnumMemberName("stored")]
    Stored,

    /// <summary>The stored refresh token was redeemed: no sign-in.</summary>
    [JsonStringEnumMemberName("refresh")]
    Refresh,

    /// <summary>The authorization code flow; the loopback server received the response.</summary>
    [JsonStringEnumMemberName("browser")]
    Browser,

    /// <summary>The device authorization grant (RFC 8628).</summary>
    [JsonStringEnumMemberName("device")]
    Device,

    /// <summary>The authorization code flow; the user pasted the address the browser ended on.</summary>
    [JsonStringEnumMemberName("paste")]
    Paste,
}

/// <summary>Parameters of <c>parseChallenge</c>.</summary>
public sealed class ParseChallengeParams
{
    /// <summary>Gets the value of the resource's <c>WWW-Authenticate</c> header (several header lines joined with ", ").</summary>
    public required string WwwAuthenticate { get; init; }
}

/// <summary>
/// Result of <c>parseChallenge</c>: the OAuth challenge of a <c>WWW-Authenticate</c> header (the first <c>Bearer</c> or
/// <c>DPoP</c> one, else the first): RFC 6750 §3, RFC 9470 §3, an Entra claims challenge, RFC 9728 §5.1.
/// </summary>
public sealed class ParseChallengeResult
{
    /// <summary>Gets the scheme (<c>Bearer</c>, <c>DPoP</c>, …).</summary>
    public required string Scheme { get; init; }

    /// <summary>Gets every auth-param of the challenge, names in lower case, quoted strings unescaped.</summary>
    public required IReadOnlyDictionary<string, string> Params { get; init; }

    /// <summary>Gets the <c>error</c>: <c>invalid_token</c>, <c>insufficient_scope</c>, <c>insufficient_user_authentication</c> (RFC 9470), <c>insufficient_claims</c> (Entra).</summary>
    public string? Error { get; init; }

    /// <summary>Gets the <c>error_description</c>.</summary>
    public string? ErrorDescription { get; init; }

    /// <summary>Gets the scopes the resource needs (<c>scope</c>, split at spaces).</summary>
    public IReadOnlyList<string>? Scope { get; init; }

    /// <summary>Gets the acceptable authentication context classes (<c>acr_values</c>, split at spaces): pass them to <c>getCredentials</c>.</summary>
    public IReadOnlyList<string>? AcrValues { get; init; }

    /// <summary>Gets the most seconds since the user's last active authentication (<c>max_age</c>): pass it to <c>getCredentials</c>.</summary>
    public long? MaxAge { get; init; }

    /// <summary>Gets the claims request as JSON (decoded when sent base64-encoded, as Entra does): pass it to <c>getCredentials</c>.</summary>
    public string? Claims { get; init; }

    /// <summary>Gets the address of the resource's protected resource metadata (RFC 9728 <c>resource_metadata</c>).</summary>
    public string? ResourceMetadata { get; init; }

    /// <summary>Gets the <c>realm</c>.</summary>
    public string? Realm { get; init; }
}

/// <summary><c>authorizationUrl</c>: a sign-in waits on the user; print or show this (every interactive flow).</summary>
public sealed class AuthorizationUrlNotification
{
    /// <summary>Gets the flow.</summary>
    public required string FlowId { get; init; }

    /// <summary>Gets the address to open: the authorization request, or a device flow's verification URI.</summary>
    public required string AuthUri { get; init; }

    /// <summary>Gets a sentence to show the user.</summary>
    public required string Message { get; init; }
}

/// <summary>What was wrong with the previous answer to <c>auth/promptRedirect</c>, when the sidecar asks again.</summary>
public sealed class PromptRedirectProblem
{
    /// <summary>Gets the error code: -32002 (the address belongs to another sign-in: state or iss) or -32602 (not a redirect address).</summary>
    public required int Code { get; init; }

    /// <summary>Gets a sentence for the user.</summary>
    public required string Message { get; init; }
}

/// <summary>
/// Parameters of <c>auth/promptRedirect</c>, sent to a caller that declared <c>capabilities.promptRedirect</c>: show
/// the user <see cref="AuthUri"/>, let them sign in on any machine and paste the address the browser ends on.
/// </summary>
public sealed class PromptRedirectParams
{
    /// <summary>Gets the flow.</summary>
    public required string FlowId { get; init; }

    /// <summary>Gets the authorization request to open.</summary>
    public required string AuthUri { get; init; }

    /// <summary>Gets the redirect URI: the address to paste starts with it (the browser fails to load it elsewhere).</summary>
    public required string RedirectUri { get; init; }

    /// <summary>Gets a sentence to show the user.</summary>
    public required string Message { get; init; }

    /// <summary>Gets what was wrong with the previous answer, when the sidecar asks again (the flow is still open).</summary>
    public PromptRedirectProblem? Error { get; init; }
}

/// <summary>Result of <c>auth/promptRedirect</c>: the address the browser ended on (answer with an error to decline).</summary>
public sealed class PromptRedirectResult
{
    /// <summary>Gets the address pasted by the user.</summary>
    public required string Url { get; init; }
}
