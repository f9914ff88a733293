using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// The private key of a <c>private_key_jwt</c> client (RFC 7523 §2.2, OpenID Connect Core §9): it signs a fresh
/// client assertion for every token request.
/// </summary>
public sealed class ClientAssertionKey
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    private ClientAssertionKey(AsymmetricSecurityKey key, string algorithm)
    {
        this.Key = key;
        this.Algorithm = algorithm;
    }

    /// <summary>Gets the signing key.</summary>
    public AsymmetricSecurityKey Key { get; }

    /// <summary>Gets the JWS algorithm, e.g. <c>RS256</c> or <c>ES256</c>.</summary>
    public string Algorithm { get; }

    /// <summary>
    /// Loads an unencrypted PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC). The algorithm defaults to RS256 for RSA
    /// and ES256 / ES384 / ES512 for P-256 / P-384 / P-521.
    /// </summary>
    /// <param name="pem">The PEM text.</param>
    /// <param name="keyId">The <c>kid</c> to put in the assertion's header, as registered in the client's JWKS.</param>
    /// <param name="algorithm">The JWS algorithm, or <see langword="null"/> for the default.</param>
    /// <param name="option">The <see cref="CoreOption"/> that gave the key, for errors.</param>
    /// <returns>The key.</returns>
    /// <exception cref="InvalidOptionException">The PEM holds no usable private key, or the algorithm does not fit it.</exception>
    public static ClientAssertionKey FromPem(string pem, string? keyId, string? algorithm, string option)
    {
        ArgumentNullException.ThrowIfNull(pem);
        AsymmetricSecurityKey key;
        string defaultAlgorithm;
        if (pem.Contains("EC PRIVATE KEY", StringComparison.Ordinal) || LooksLikeEc(pem))
        {
            var ec = ECDsa.Create();
            try
            {
                ec.ImportFromPem(pem);
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                ec.Dispose();
                throw new InvalidOptionException(option, $"{{{option}}}: the PEM holds no EC private key ({ex.Message}).");
            }

            defaultAlgorithm = ec.KeySize switch { 384 => SecurityAlgorithms.EcdsaSha384, 521 => SecurityAlgorithms.EcdsaSha512, _ => SecurityAlgorithms.EcdsaSha256 };
            key = new ECDsaSecurityKey(ec);
        }
        else
        {
            var rsa = RSA.Create();
            try
            {
                rsa.ImportFromPem(pem);
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                rsa.Dispose();
                throw new InvalidOptionException(option, $"{{{option}}}: the PEM holds no RSA or EC private key ({ex.Message}). Give an unencrypted PKCS#8 or PKCS#1 key.");
            }

            defaultAlgorithm = SecurityAlgorithms.RsaSha256;
            key = new RsaSecurityKey(rsa);
        }

        key.KeyId = keyId;
        string chosen = algorithm ?? defaultAlgorithm;
        bool fits = key is RsaSecurityKey ? chosen is "RS256" or "RS384" or "RS512" or "PS256" or "PS384" or "PS512" : chosen.StartsWith("ES", StringComparison.Ordinal);
        if (!fits)
        {
            throw new InvalidOptionException(option, $"{{{option}}}: algorithm {chosen} does not fit a{(key is RsaSecurityKey ? "n RSA" : "n EC")} key.");
        }

        return new ClientAssertionKey(key, chosen);
    }

    /// <summary>
    /// Creates a client assertion: a JWT with <c>iss</c> = <c>sub</c> = the client id, <c>aud</c> = the token
    /// endpoint, a random <c>jti</c>, <c>iat</c> now and <c>exp</c> in 5 minutes (RFC 7523 §3).
    /// </summary>
    /// <param name="clientId">The client id.</param>
    /// <param name="audience">The token endpoint.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The signed JWT.</returns>
    public string CreateAssertion(string clientId, string audience, DateTimeOffset now) =>
        Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = clientId,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.AddMinutes(5).UtcDateTime,
            Claims = new Dictionary<string, object> { ["sub"] = clientId, ["jti"] = ProtocolRandom.Create(16) },
            SigningCredentials = new SigningCredentials(this.Key, this.Algorithm),
        });

    private static bool LooksLikeEc(string pem)
    {
        try
        {
            using var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            return false;
        }
    }
}
