using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OAuthSidecar.Core.Diagnostics;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// One DPoP key pair (RFC 9449): it signs DPoP proofs whose <c>jwk</c> header carries the public key only, and its
/// RFC 7638 thumbprint (<see cref="Thumbprint"/>, the <c>jkt</c>) names it in <c>dpop_jkt</c> and in the <c>cnf</c>
/// of the tokens bound to it. The private key never leaves the sidecar: it is kept in memory and, for an account, in
/// the credential store (<see cref="ExportPkcs8"/>), and every form of it is registered with the redactor.
/// </summary>
/// <remarks>
/// Proofs are built with Microsoft.IdentityModel.JsonWebTokens. EC and RSA keys are .NET's; an EdDSA key (Ed25519,
/// RFC 8037) is an <see cref="Ed25519SecurityKey"/>, whose crypto provider signs with BouncyCastle, because neither
/// Microsoft.IdentityModel.Tokens 8.23 nor .NET 10 implements Ed25519.
/// </remarks>
public sealed class DpopKey
{
    /// <summary>The <c>typ</c> header of a DPoP proof (RFC 9449 §4.2).</summary>
    public const string ProofType = "dpop+jwt";

    /// <summary>The algorithm used when neither the caller nor the server's metadata chooses one.</summary>
    public const string DefaultAlgorithm = SecurityAlgorithms.EcdsaSha256;

    /// <summary>How long a proof is offered for, in seconds: <c>expiresAt</c> of a proof is its <c>iat</c> plus this (servers accept a short window around <c>iat</c>, RFC 9449 §11.1).</summary>
    public const int ProofLifetimeSeconds = 60;

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    private readonly AsymmetricSecurityKey key;
    private readonly Dictionary<string, object> publicJwk;
    private readonly byte[] pkcs8;

    private DpopKey(string algorithm, AsymmetricSecurityKey key, Dictionary<string, object> publicJwk, string thumbprint, byte[] pkcs8, string privatePart, SecretRedactor redactor)
    {
        this.Algorithm = algorithm;
        this.key = key;
        this.publicJwk = publicJwk;
        this.Thumbprint = thumbprint;
        this.pkcs8 = pkcs8;
        redactor.Register(privatePart);
        redactor.Register(this.ExportPkcs8());
    }

    /// <summary>Gets the algorithms a DPoP key can use here, in the order the sidecar prefers them.</summary>
    public static IReadOnlyList<string> SupportedAlgorithms { get; } =
        [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512, SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256, Ed25519SecurityKey.Algorithm];

    /// <summary>Gets the JWS algorithm of the proofs, e.g. <c>ES256</c>.</summary>
    public string Algorithm { get; }

    /// <summary>Gets the JWK SHA-256 thumbprint of the public key (RFC 7638), base64url: the <c>jkt</c> (RFC 9449 §6.1).</summary>
    public string Thumbprint { get; }

    /// <summary>Gets the public key as a JWK: <c>kty</c> and <c>crv</c>, <c>x</c>, <c>y</c> (EC), <c>e</c>, <c>n</c> (RSA) or <c>crv</c>, <c>x</c> (OKP, Ed25519, RFC 8037 §2); never a private member.</summary>
    public IReadOnlyDictionary<string, object> PublicJwk => this.publicJwk;

    /// <summary>Creates a new key pair: P-256/384/521 for ES256/384/512, RSA-2048 for RS256 and PS256, Ed25519 for EdDSA.</summary>
    /// <param name="algorithm">One of <see cref="SupportedAlgorithms"/>.</param>
    /// <param name="redactor">Learns the private key in every form it is written.</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentException">An algorithm that is not supported (a bug: callers validate first).</exception>
    public static DpopKey Create(string algorithm, SecretRedactor redactor)
    {
        ArgumentNullException.ThrowIfNull(redactor);
        if (algorithm == Ed25519SecurityKey.Algorithm)
        {
            return FromEd25519(Ed25519SecurityKey.Create(), redactor);
        }

        AsymmetricAlgorithm material = algorithm switch
        {
            SecurityAlgorithms.EcdsaSha256 => ECDsa.Create(ECCurve.NamedCurves.nistP256),
            SecurityAlgorithms.EcdsaSha384 => ECDsa.Create(ECCurve.NamedCurves.nistP384),
            SecurityAlgorithms.EcdsaSha512 => ECDsa.Create(ECCurve.NamedCurves.nistP521),
            SecurityAlgorithms.RsaSha256 or SecurityAlgorithms.RsaSsaPssSha256 => RSA.Create(2048),
            _ => throw new ArgumentException($"DPoP algorithm {algorithm} is not supported.", nameof(algorithm)),
        };
        return FromMaterial(algorithm, material, redactor);
    }

    /// <summary>Loads a key kept by <see cref="ExportPkcs8"/>.</summary>
    /// <param name="algorithm">The algorithm it was created for.</param>
    /// <param name="pkcs8">The PKCS#8 private key, base64.</param>
    /// <param name="redactor">Learns the private key in every form it is written.</param>
    /// <returns>The key, or <see langword="null"/> when the stored value is unreadable (another version, damaged).</returns>
    public static DpopKey? Import(string algorithm, string pkcs8, SecretRedactor redactor)
    {
        ArgumentNullException.ThrowIfNull(redactor);
        if (!SupportedAlgorithms.Contains(algorithm) || string.IsNullOrEmpty(pkcs8))
        {
            return null;
        }

        if (algorithm == Ed25519SecurityKey.Algorithm)
        {
            try
            {
                return FromEd25519(Ed25519SecurityKey.ImportPkcs8(Convert.FromBase64String(pkcs8)), redactor);
            }
            catch (FormatException)
            {
                return null;
            }
        }

        AsymmetricAlgorithm material = algorithm.StartsWith("ES", StringComparison.Ordinal) ? ECDsa.Create() : RSA.Create();
        try
        {
            material.ImportPkcs8PrivateKey(Convert.FromBase64String(pkcs8), out _);
            return FromMaterial(algorithm, material, redactor);
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            material.Dispose();
            return null;
        }
    }

    /// <summary>
    /// Chooses the algorithm of a client's DPoP keys: the one asked for, else the first of
    /// <see cref="SupportedAlgorithms"/> that the server's <c>dpop_signing_alg_values_supported</c> (RFC 9449 §5.1)
    /// lists, else (no list) ES256.
    /// </summary>
    /// <param name="requested">The algorithm asked for, or <see langword="null"/>.</param>
    /// <param name="serverSupported">The server's list, or <see langword="null"/> when it published none.</param>
    /// <returns>The algorithm.</returns>
    /// <exception cref="InvalidOptionException">An unknown algorithm, or one the server does not accept.</exception>
    public static string ChooseAlgorithm(string? requested, IReadOnlyList<string>? serverSupported)
    {
        string supported = string.Join(", ", SupportedAlgorithms);
        if (requested is not null)
        {
            if (!SupportedAlgorithms.Contains(requested))
            {
                throw new InvalidOptionException(CoreOption.DpopAlgorithm, $"{{{CoreOption.DpopAlgorithm}}} '{requested}' is not a DPoP algorithm the sidecar supports; use one of {supported}.");
            }

            if (serverSupported is { Count: > 0 } && !serverSupported.Contains(requested))
            {
                throw new InvalidOptionException(CoreOption.DpopAlgorithm, $"{{{CoreOption.DpopAlgorithm}}} '{requested}' is not accepted by the authorization server, whose dpop_signing_alg_values_supported is {string.Join(", ", serverSupported)}.");
            }

            return requested;
        }

        if (serverSupported is not { Count: > 0 })
        {
            return DefaultAlgorithm;
        }

        return SupportedAlgorithms.FirstOrDefault(serverSupported.Contains)
            ?? throw new InvalidOptionException(CoreOption.Dpop, $"The authorization server accepts DPoP proofs signed with {string.Join(", ", serverSupported)} only (dpop_signing_alg_values_supported); the sidecar can sign with {supported}, so {{{CoreOption.Dpop}}} cannot be used with it.");
    }

    /// <summary>Returns the <c>htu</c> of a URL: without query and fragment (RFC 9449 §4.2).</summary>
    /// <param name="url">An absolute http or https URL.</param>
    /// <returns>The URL's scheme, authority and path.</returns>
    /// <exception cref="InvalidOptionException">Not an absolute http(s) URL.</exception>
    public static string TargetUri(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new InvalidOptionException(CoreOption.DpopHtu, $"{{{CoreOption.DpopHtu}}} '{url}' is not an absolute http or https URL.");
        }

        return uri.GetLeftPart(UriPartial.Path);
    }

    /// <summary>Returns <c>ath</c>: the base64url SHA-256 of the access token's ASCII bytes (RFC 9449 §4.2).</summary>
    /// <param name="accessToken">The access token.</param>
    /// <returns>The hash.</returns>
    public static string AccessTokenHash(string accessToken)
    {
        ArgumentNullException.ThrowIfNull(accessToken);
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
    }

    /// <summary>
    /// Creates a DPoP proof (RFC 9449 §4.2): header <c>typ</c> <c>dpop+jwt</c>, <c>alg</c> and the public <c>jwk</c>;
    /// claims a fresh <c>jti</c>, <c>htm</c>, <c>htu</c> (without query and fragment), <c>iat</c>, and <c>ath</c> and
    /// <c>nonce</c> when given.
    /// </summary>
    /// <param name="htm">The HTTP method, e.g. <c>POST</c>.</param>
    /// <param name="htu">The request's URL.</param>
    /// <param name="accessToken">The access token the request carries (gives <c>ath</c>), or <see langword="null"/>.</param>
    /// <param name="nonce">The server's <c>DPoP-Nonce</c>, or <see langword="null"/>.</param>
    /// <param name="now">The time of <c>iat</c>.</param>
    /// <returns>The signed proof.</returns>
    public string CreateProof(string htm, string htu, string? accessToken, string? nonce, DateTimeOffset now)
    {
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["jti"] = ProtocolRandom.Create(16),
            ["htm"] = htm,
            ["htu"] = TargetUri(htu),
        };
        if (accessToken is not null)
        {
            claims["ath"] = AccessTokenHash(accessToken);
        }

        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = ProofType,
            IssuedAt = now.UtcDateTime,
            Claims = claims,
            AdditionalHeaderClaims = new Dictionary<string, object>(StringComparer.Ordinal) { ["jwk"] = this.publicJwk },
            SigningCredentials = new SigningCredentials(this.key, this.Algorithm),
            IncludeKeyIdInHeader = false,
        });
    }

    /// <summary>Returns the private key as PKCS#8, base64: only for the credential store.</summary>
    /// <returns>The encoded key.</returns>
    public string ExportPkcs8() => Convert.ToBase64String(this.pkcs8);

    private static DpopKey FromMaterial(string algorithm, AsymmetricAlgorithm material, SecretRedactor redactor)
    {
        var jwk = new JsonWebKey();
        switch (material)
        {
            case ECDsa ec:
                ECParameters p = ec.ExportParameters(includePrivateParameters: true);
                jwk.Kty = JsonWebAlgorithmsKeyTypes.EllipticCurve;
                jwk.Crv = CurveName(ec.KeySize);
                jwk.X = Base64Url.EncodeToString(p.Q.X);
                jwk.Y = Base64Url.EncodeToString(p.Q.Y);
                return new DpopKey(
                    algorithm,
                    new ECDsaSecurityKey(ec),
                    new Dictionary<string, object>(StringComparer.Ordinal) { ["kty"] = jwk.Kty, ["crv"] = jwk.Crv, ["x"] = jwk.X, ["y"] = jwk.Y },
                    Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint()),
                    ec.ExportPkcs8PrivateKey(),
                    Base64Url.EncodeToString(p.D),
                    redactor);
            case RSA rsa:
                RSAParameters r = rsa.ExportParameters(includePrivateParameters: true);
                jwk.Kty = JsonWebAlgorithmsKeyTypes.RSA;
                jwk.E = Base64Url.EncodeToString(r.Exponent);
                jwk.N = Base64Url.EncodeToString(r.Modulus);
                return new DpopKey(
                    algorithm,
                    new RsaSecurityKey(rsa),
                    new Dictionary<string, object>(StringComparer.Ordinal) { ["kty"] = jwk.Kty, ["e"] = jwk.E, ["n"] = jwk.N },
                    Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint()),
                    rsa.ExportPkcs8PrivateKey(),
                    Base64Url.EncodeToString(r.D),
                    redactor);
            default:
                throw new ArgumentException("A DPoP key is an EC, RSA or Ed25519 key.", nameof(material));
        }
    }

    private static DpopKey FromEd25519(Ed25519SecurityKey ed25519, SecretRedactor redactor) => new(
        Ed25519SecurityKey.Algorithm,
        ed25519,
        new Dictionary<string, object>(StringComparer.Ordinal) { ["kty"] = Ed25519SecurityKey.KeyType, ["crv"] = Ed25519SecurityKey.Curve, ["x"] = ed25519.X },
        Base64UrlEncoder.Encode(ed25519.ComputeJwkThumbprint()),
        ed25519.ExportPkcs8(),
        ed25519.PrivateSeed(),
        redactor);

    private static string CurveName(int keySize) => keySize switch
    {
        256 => JsonWebKeyECTypes.P256,
        384 => JsonWebKeyECTypes.P384,
        521 => JsonWebKeyECTypes.P521,
        _ => throw new ArgumentException($"No JWK curve for a {keySize}-bit EC key."),
    };
}
