using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// An Ed25519 key (RFC 8032) as a Microsoft.IdentityModel security key, so JsonWebTokens signs EdDSA JWTs (RFC 8037
/// §3.1) with it: its <see cref="SecurityKey.CryptoProviderFactory"/> holds an <see cref="Ed25519CryptoProvider"/>,
/// whose signature provider does the Ed25519 arithmetic with BouncyCastle (neither .NET 10 nor
/// Microsoft.IdentityModel.Tokens 8.23 has Ed25519). Its public JWK is <c>{ kty: "OKP", crv: "Ed25519", x }</c>
/// (RFC 8037 §2).
/// </summary>
internal sealed class Ed25519SecurityKey : AsymmetricSecurityKey
{
    /// <summary>The JWS algorithm name of Ed25519 signatures (RFC 8037 §3.1).</summary>
    public const string Algorithm = "EdDSA";

    /// <summary>The JWK key type of Ed25519 keys (RFC 8037 §2).</summary>
    public const string KeyType = "OKP";

    /// <summary>The JWK curve name (RFC 8037 §2).</summary>
    public const string Curve = "Ed25519";

    private Ed25519SecurityKey(Ed25519PrivateKeyParameters? privateKey, Ed25519PublicKeyParameters publicKey)
    {
        this.PrivateKey = privateKey;
        this.PublicKey = publicKey;
        this.X = Base64Url.EncodeToString(publicKey.GetEncoded());
        this.CryptoProviderFactory = new CryptoProviderFactory { CustomCryptoProvider = new Ed25519CryptoProvider(), CacheSignatureProviders = false };
    }

    /// <summary>Gets the private key, or <see langword="null"/> for a public key only.</summary>
    public Ed25519PrivateKeyParameters? PrivateKey { get; }

    /// <summary>Gets the public key.</summary>
    public Ed25519PublicKeyParameters PublicKey { get; }

    /// <summary>Gets the public key's 32 bytes, base64url: the JWK <c>x</c> (RFC 8037 §2).</summary>
    public string X { get; }

    /// <inheritdoc/>
    public override int KeySize => 256;

    /// <inheritdoc/>
    [Obsolete("HasPrivateKey is obsolete in Microsoft.IdentityModel.Tokens; use PrivateKeyStatus.")]
    public override bool HasPrivateKey => this.PrivateKey is not null;

    /// <inheritdoc/>
    public override PrivateKeyStatus PrivateKeyStatus => this.PrivateKey is null ? PrivateKeyStatus.DoesNotExist : PrivateKeyStatus.Exists;

    /// <summary>Creates a new key from 32 random bytes of the operating system's generator (RFC 8032 §5.1.5).</summary>
    /// <returns>The key.</returns>
    public static Ed25519SecurityKey Create() =>
        FromPrivate(new Ed25519PrivateKeyParameters(RandomNumberGenerator.GetBytes(Ed25519PrivateKeyParameters.KeySize)));

    /// <summary>Creates a public key only, e.g. to check a signature.</summary>
    /// <param name="x">The JWK <c>x</c>: 32 bytes.</param>
    /// <returns>The key.</returns>
    public static Ed25519SecurityKey FromPublic(ReadOnlySpan<byte> x) => new(null, new Ed25519PublicKeyParameters(x));

    /// <summary>Reads a PKCS#8 <c>PrivateKeyInfo</c> of an Ed25519 key (RFC 8410 §7).</summary>
    /// <param name="pkcs8">The DER bytes.</param>
    /// <returns>The key.</returns>
    /// <exception cref="FormatException">Not an Ed25519 PKCS#8 key.</exception>
    public static Ed25519SecurityKey ImportPkcs8(byte[] pkcs8)
    {
        try
        {
            return PrivateKeyFactory.CreateKey(pkcs8) is Ed25519PrivateKeyParameters key
                ? FromPrivate(key)
                : throw new FormatException("The PKCS#8 key is not an Ed25519 key.");
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException or SecurityUtilityException or InvalidCastException)
        {
            throw new FormatException("The PKCS#8 key is not readable.", ex);
        }
    }

    /// <summary>Writes the private key as a PKCS#8 <c>PrivateKeyInfo</c> (RFC 8410 §7), DER.</summary>
    /// <returns>The bytes.</returns>
    /// <exception cref="InvalidOperationException">A public key only.</exception>
    public byte[] ExportPkcs8()
    {
        Ed25519PrivateKeyParameters key = this.PrivateKey ?? throw new InvalidOperationException("A public Ed25519 key has no PKCS#8 form.");
        PrivateKeyInfo info = PrivateKeyInfoFactory.CreatePrivateKeyInfo(key);
        return info.GetDerEncoded();
    }

    /// <summary>Returns the private key's 32 bytes, base64url: the JWK <c>d</c> (RFC 8037 §2), only for the redactor.</summary>
    /// <returns>The encoded seed.</returns>
    /// <exception cref="InvalidOperationException">A public key only.</exception>
    public string PrivateSeed() => Base64Url.EncodeToString((this.PrivateKey ?? throw new InvalidOperationException("A public Ed25519 key has no private part.")).GetEncoded());

    /// <inheritdoc/>
    public override bool CanComputeJwkThumbprint() => true;

    /// <summary>
    /// Returns the RFC 7638 thumbprint input hashed: SHA-256 of <c>{"crv":"Ed25519","kty":"OKP","x":"…"}</c>, the
    /// required members of an OKP key in lexicographic order without white space (RFC 8037 §2, RFC 7638 §3.2).
    /// </summary>
    /// <returns>The 32-byte hash.</returns>
    public override byte[] ComputeJwkThumbprint() =>
        SHA256.HashData(Encoding.UTF8.GetBytes($$"""{"crv":"{{Curve}}","kty":"{{KeyType}}","x":"{{this.X}}"}"""));

    private static Ed25519SecurityKey FromPrivate(Ed25519PrivateKeyParameters key) => new(key, key.GeneratePublicKey());
}
