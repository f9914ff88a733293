namespace OAuthSidecar.Rpc.Contracts;

/// <summary>Parameters of <c>getCredentials</c> (flytekit's <c>get_creds_from_remote</c>).</summary>
public sealed class GetCredentialsParams
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the scopes; the client's default scopes when absent. The scope set, without the reserved OpenID Connect scopes (openid, profile, email, offline_access), is part of the key.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    /// <summary>
    /// Gets how to sign in when nothing usable is stored: <c>auto</c> (the default: the browser, else the device flow,
    /// else pasting), <c>browser</c>, <c>device</c> (sends <c>deviceCode</c>), <c>paste</c> (<c>auth/promptRedirect</c>)
    /// or <c>none</c> (-32008).
    /// </summary>
    public InteractionModeDto? Interactive { get; init; }

    /// <summary>Gets the account; by default the client's most recently used one.</summary>
    public string? Account { get; init; }

    /// <summary>Gets a step-up's claims request (OpenID Connect Core §5.5): JSON, or base64 of JSON as <c>parseChallenge</c> reads it from an Entra challenge.</summary>
    public string? Claims { get; init; }

    /// <summary>Gets a step-up's acceptable authentication context classes (RFC 9470 <c>acr_values</c>): a stored token whose id_token's <c>acr</c> is not one of them is not handed out.</summary>
    public IReadOnlyList<string>? AcrValues { get; init; }

    /// <summary>Gets a step-up's most seconds since the user's last active authentication (RFC 9470 <c>max_age</c>), checked against the id_token's <c>auth_time</c>.</summary>
    public long? MaxAge { get; init; }

    /// <summary>Gets the resource indicators (1.1, RFC 8707): one URI or an array; the client's by default. Tokens are stored per resource set.</summary>
    public ResourceIndicators? Resource { get; init; }
}

/// <summary>Parameters of <c>listAccounts</c>.</summary>
public sealed class ListAccountsParams
{
    /// <summary>Gets the client whose accounts to list; all accounts of the default store when absent.</summary>
    public string? ClientHandle { get; init; }
}

/// <summary>One signed-in account (no secrets).</summary>
public sealed class AccountInfo
{
    /// <summary>Gets the account: the id_token's <c>sub</c>.</summary>
    public required string Account { get; init; }

    /// <summary>Gets the client id.</summary>
    public required string ClientId { get; init; }

    /// <summary>Gets the issuer.</summary>
    public required string Issuer { get; init; }

    /// <summary>Gets the scopes with a stored token.</summary>
    public required IReadOnlyList<string> Scopes { get; init; }

    /// <summary>Gets when the latest access token expires, in Unix seconds.</summary>
    public long? ExpiresAt { get; init; }

    /// <summary>Gets the name to show (<c>preferred_username</c> or <c>email</c>).</summary>
    public string? Username { get; init; }
}

/// <summary>Parameters of <c>signOut</c>.</summary>
public sealed class SignOutParams
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the account; every account of the client when absent.</summary>
    public string? Account { get; init; }
}

/// <summary><c>deviceCode</c>: <c>getCredentials</c> chose the device flow; show this to the user.</summary>
public sealed class DeviceCodeNotification
{
    /// <summary>Gets the flow.</summary>
    public required string FlowId { get; init; }

    /// <summary>Gets the code the user types.</summary>
    public required string UserCode { get; init; }

    /// <summary>Gets where the user types it.</summary>
    public required string VerificationUri { get; init; }

    /// <summary>Gets a sentence to show the user.</summary>
    public required string Message { get; init; }

    /// <summary>Gets when the code expires, in Unix seconds.</summary>
    public required long ExpiresAt { get; init; }

    /// <summary>Gets a URI that carries the user code.</summary>
    public string? VerificationUriComplete { get; init; }
}

/// <summary><c>data</c> of -32009.</summary>
public sealed class StorageUnavailableData
{
    /// <summary>Gets the backend: <c>keyring</c>, <c>file</c> or <c>memory</c>.</summary>
    public required string Backend { get; init; }

    /// <summary>Gets what is wrong and what to do.</summary>
    public required string Reason { get; init; }
}
