using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Credentials;

/// <summary>How <c>getCredentials</c> may interact with the user when nothing usable is stored.</summary>
public enum InteractionMode
{
    /// <summary>The authorization code flow in the browser.</summary>
    Browser,

    /// <summary>The device authorization grant: a <c>deviceCode</c> notification, then polling.</summary>
    Device,

    /// <summary>Never: fail with -32008.</summary>
    None,

    /// <summary>The default: the browser, else the device flow, else pasting the redirect address, as the environment allows (<see cref="InteractiveSignIn"/>).</summary>
    Auto,

    /// <summary>The authorization code flow whose response the user pastes (<c>auth/promptRedirect</c>); the loopback server listens meanwhile.</summary>
    Paste,
}

/// <summary>What <see cref="CredentialBroker.GetCredentialsAsync"/> is asked for.</summary>
public sealed class CredentialRequest
{
    /// <summary>Gets the scopes; the client's defaults when empty.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    /// <summary>Gets how to interact when needed.</summary>
    public InteractionMode Interactive { get; init; } = InteractionMode.Auto;

    /// <summary>Gets the account; by default the most recently used one of the client.</summary>
    public string? Account { get; init; }

    /// <summary>Gets what opens the browser for an interactive sign-in (when <see cref="Host"/> is not given).</summary>
    public Func<AuthCodeFlow, Task>? OpenBrowser { get; init; }

    /// <summary>Gets what reaches the user in an interactive sign-in: opens the browser, asks for a pasted address.</summary>
    public ISignInHost? Host { get; init; }

    /// <summary>Gets the claims request of a step-up (JSON, or base64 of JSON as Entra's challenges carry it; OpenID Connect Core §5.5).</summary>
    public string? Claims { get; init; }

    /// <summary>Gets the acceptable authentication context classes of a step-up (RFC 9470 <c>acr_values</c>).</summary>
    public IReadOnlyList<string>? AcrValues { get; init; }

    /// <summary>Gets the most seconds since the user's last active authentication (RFC 9470 <c>max_age</c>).</summary>
    public long? MaxAge { get; init; }

    /// <summary>Gets the resource indicators (RFC 8707); <see langword="null"/>: the client's defaults. Tokens are stored per resource set.</summary>
    public IReadOnlyList<string>? Resources { get; init; }
}
