using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace OAuthSidecar.Core.Credentials;

/// <summary>Names one signed-in account of one client at one authorization server.</summary>
/// <param name="Issuer">The issuer (or the token endpoint when no issuer is known).</param>
/// <param name="ClientId">The client id.</param>
/// <param name="Account">The account: the id_token's <c>sub</c>.</param>
public sealed record AccountKey(string Issuer, string ClientId, string Account)
{
    /// <summary>Gets the storage item name: a hash, so no identifier appears in item names.</summary>
    public string ItemName => "acct-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{this.Issuer}\n{this.ClientId}\n{this.Account}")))[..32];
}

/// <summary>Everything stored for one account: one storage item (one keyring entry, one unlock prompt).</summary>
public sealed class StoredAccount
{
    /// <summary>Gets or sets the issuer.</summary>
    public required string Issuer { get; set; }

    /// <summary>Gets or sets the client id.</summary>
    public required string ClientId { get; set; }

    /// <summary>Gets or sets the account (<c>sub</c>).</summary>
    public required string Account { get; set; }

    /// <summary>Gets or sets the name to show (<c>preferred_username</c> or <c>email</c>).</summary>
    public string? Username { get; set; }

    /// <summary>Gets or sets the refresh token of the grant (shared by every scope set; rotated in place).</summary>
    public string? RefreshToken { get; set; }

    /// <summary>
    /// Gets or sets the scopes asked for when the refresh token's grant was made (the interactive sign-in), and any a
    /// refresh added since; <see langword="null"/> in accounts stored before this was kept (then the tokens' scopes stand in).
    /// </summary>
    public List<string>? GrantRequestedScopes { get; set; }

    /// <summary>Gets or sets the scopes the server reported granting for the refresh token's grant; <see langword="null"/> as above.</summary>
    public List<string>? GrantGrantedScopes { get; set; }

    /// <summary>Gets or sets the access tokens, one per scope set.</summary>
    public List<StoredToken> Tokens { get; set; } = [];

    /// <summary>
    /// Gets or sets the account's DPoP key (RFC 9449): the refresh token and every DPoP-bound access token of the
    /// account are bound to it. Kept here, in the secret item, like the refresh token; never in the index.
    /// </summary>
    public StoredDpopKey? DpopKey { get; set; }

    /// <summary>Gets or sets when this was last written, in Unix seconds.</summary>
    public long UpdatedAt { get; set; }

    /// <summary>Gets the key.</summary>
    [JsonIgnore]
    public AccountKey Key => new(this.Issuer, this.ClientId, this.Account);

    /// <summary>Gets or sets the <c>acr</c> of the sign-in behind the refresh token (its id_token's), for step-up checks (RFC 9470).</summary>
    public string? GrantAcr { get; set; }

    /// <summary>Gets or sets the <c>auth_time</c> of the sign-in behind the refresh token, in Unix seconds.</summary>
    public long? GrantAuthTime { get; set; }

    /// <summary>Gets or sets the claims request (JSON) the sign-in behind the refresh token was made with.</summary>
    public string? GrantClaims { get; set; }
}

/// <summary>A DPoP private key as kept in the store.</summary>
public sealed class StoredDpopKey
{
    /// <summary>Gets or sets the JWS algorithm, e.g. <c>ES256</c>.</summary>
    public required string Algorithm { get; set; }

    /// <summary>Gets or sets the private key: PKCS#8, base64.</summary>
    public required string Pkcs8 { get; set; }

    /// <summary>Gets or sets the key's thumbprint (<c>jkt</c>, RFC 7638).</summary>
    public required string Thumbprint { get; set; }

    /// <summary>Returns the stored form of <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>What the store keeps.</returns>
    public static StoredDpopKey From(OAuth.DpopKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new StoredDpopKey { Algorithm = key.Algorithm, Pkcs8 = key.ExportPkcs8(), Thumbprint = key.Thumbprint };
    }

    /// <summary>Loads the key.</summary>
    /// <param name="redactor">Learns the private key in every form it is written.</param>
    /// <returns>The key, or <see langword="null"/> when the stored value is unreadable.</returns>
    public OAuth.DpopKey? Load(Diagnostics.SecretRedactor redactor) => OAuth.DpopKey.Import(this.Algorithm, this.Pkcs8, redactor);
}

/// <summary>An access token for one scope set and one set of resource indicators (RFC 8707).</summary>
public sealed class StoredToken
{
    /// <summary>Gets or sets the scopes asked for, sorted; without the reserved OpenID Connect scopes they are the lookup key (<see cref="OAuth.Scopes.Key"/>).</summary>
    public required List<string> Scopes { get; set; }

    /// <summary>Gets or sets the resource indicators (RFC 8707) the token was asked for, sorted (ordinal); empty for none. Part of the lookup key.</summary>
    public List<string> Resources { get; set; } = [];

    /// <summary>Gets or sets the token's lifetime as issued (<c>expires_in</c>), in seconds; <see langword="null"/> when unknown.</summary>
    public long? Lifetime { get; set; }

    /// <summary>Gets or sets the scopes granted.</summary>
    public List<string> GrantedScopes { get; set; } = [];

    /// <summary>Gets or sets the access token.</summary>
    public required string AccessToken { get; set; }

    /// <summary>Gets or sets the token type.</summary>
    public string TokenType { get; set; } = "Bearer";

    /// <summary>Gets or sets when the access token expires, in Unix seconds (<see langword="null"/>: unknown).</summary>
    public long? ExpiresAt { get; set; }

    /// <summary>Gets or sets the id_token.</summary>
    public string? IdToken { get; set; }

    /// <summary>Gets or sets the <c>acr</c> of the user authentication this token was issued under (RFC 9470 §4).</summary>
    public string? Acr { get; set; }

    /// <summary>Gets or sets the <c>auth_time</c> of that authentication, in Unix seconds.</summary>
    public long? AuthTime { get; set; }

    /// <summary>Gets or sets the claims request (JSON) that authentication was made with (OpenID Connect Core §5.5).</summary>
    public string? Claims { get; set; }
}

/// <summary>What <c>listAccounts</c> shows: no secrets.</summary>
public sealed class AccountSummary
{
    /// <summary>Gets or sets the account.</summary>
    public required string Account { get; set; }

    /// <summary>Gets or sets the client id.</summary>
    public required string ClientId { get; set; }

    /// <summary>Gets or sets the issuer.</summary>
    public required string Issuer { get; set; }

    /// <summary>Gets or sets the name to show.</summary>
    public string? Username { get; set; }

    /// <summary>Gets or sets every scope with a stored token.</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>Gets or sets when the latest access token expires, in Unix seconds.</summary>
    public long? ExpiresAt { get; set; }

    /// <summary>Gets or sets when the account was last written, in Unix seconds.</summary>
    public long UpdatedAt { get; set; }
}

/// <summary>The index item: which accounts exist (no secrets).</summary>
public sealed class AccountIndex
{
    /// <summary>Gets or sets the format version.</summary>
    public int Version { get; set; } = 1;

    /// <summary>Gets or sets the accounts.</summary>
    public List<AccountSummary> Accounts { get; set; } = [];
}

/// <summary>Source-generated JSON for the store (NativeAOT-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredAccount))]
[JsonSerializable(typeof(AccountIndex))]
internal sealed partial class CredentialJsonContext : JsonSerializerContext;
