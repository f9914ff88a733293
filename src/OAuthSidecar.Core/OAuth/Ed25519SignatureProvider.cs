using Microsoft.IdentityModel.Tokens;
using Org.BouncyCastle.Crypto.Signers;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Signs and checks Ed25519 signatures (RFC 8032 §5.1, pure Ed25519 as JWS <c>EdDSA</c>, RFC 8037 §3.1) for
/// Microsoft.IdentityModel with BouncyCastle's <see cref="Ed25519Signer"/>. A signature is 64 bytes.
/// </summary>
internal sealed class Ed25519SignatureProvider : SignatureProvider
{
    private const int SignatureSize = 64;
    private readonly Ed25519SecurityKey ed25519;

    /// <summary>Initializes a new instance of the <see cref="Ed25519SignatureProvider"/> class.</summary>
    /// <param name="key">The key; it must hold the private part to sign.</param>
    /// <param name="willCreateSignatures">Whether the provider will sign (else it only checks).</param>
    /// <exception cref="InvalidOperationException">Signing asked of a public key.</exception>
    public Ed25519SignatureProvider(Ed25519SecurityKey key, bool willCreateSignatures)
        : base(key, Ed25519SecurityKey.Algorithm)
    {
        if (willCreateSignatures && key.PrivateKey is null)
        {
            throw new InvalidOperationException("An Ed25519 key without its private part cannot sign.");
        }

        this.ed25519 = key;
        this.WillCreateSignatures = willCreateSignatures;
    }

    /// <summary>Signs <paramref name="input"/>.</summary>
    /// <param name="input">The JWS signing input.</param>
    /// <returns>The 64-byte signature.</returns>
    public override byte[] Sign(byte[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return this.Sign(input, 0, input.Length);
    }

    /// <summary>Signs part of <paramref name="input"/>.</summary>
    /// <param name="input">The buffer.</param>
    /// <param name="offset">Where the signing input starts.</param>
    /// <param name="count">Its length in bytes.</param>
    /// <returns>The 64-byte signature.</returns>
    public override byte[] Sign(byte[] input, int offset, int count)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, this.ed25519.PrivateKey ?? throw new InvalidOperationException("An Ed25519 key without its private part cannot sign."));
        signer.BlockUpdate(input, offset, count);
        return signer.GenerateSignature();
    }

    /// <summary>Signs <paramref name="data"/> into <paramref name="destination"/>.</summary>
    /// <param name="data">The JWS signing input.</param>
    /// <param name="destination">At least 64 bytes.</param>
    /// <param name="bytesWritten">64, or 0 when <paramref name="destination"/> is too small.</param>
    /// <returns>Whether the signature was written.</returns>
    public override bool Sign(ReadOnlySpan<byte> data, Span<byte> destination, out int bytesWritten)
    {
        if (destination.Length < SignatureSize)
        {
            bytesWritten = 0;
            return false;
        }

        byte[] signature = this.Sign(data.ToArray());
        signature.CopyTo(destination);
        bytesWritten = signature.Length;
        return true;
    }

    /// <summary>Checks an Ed25519 signature.</summary>
    /// <param name="input">The JWS signing input.</param>
    /// <param name="signature">The signature.</param>
    /// <returns>Whether it is valid for the key's public part.</returns>
    public override bool Verify(byte[] input, byte[] signature)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(signature);
        return this.Verify(input, 0, input.Length, signature, 0, signature.Length);
    }

    /// <summary>Checks an Ed25519 signature over part of a buffer.</summary>
    /// <param name="input">The buffer of the signing input.</param>
    /// <param name="inputOffset">Where it starts.</param>
    /// <param name="inputLength">Its length.</param>
    /// <param name="signature">The buffer of the signature.</param>
    /// <param name="signatureOffset">Where it starts.</param>
    /// <param name="signatureLength">Its length (64 for a valid one).</param>
    /// <returns>Whether it is valid for the key's public part.</returns>
    public override bool Verify(byte[] input, int inputOffset, int inputLength, byte[] signature, int signatureOffset, int signatureLength)
    {
        if (signatureLength != SignatureSize)
        {
            return false;
        }

        var verifier = new Ed25519Signer();
        verifier.Init(false, this.ed25519.PublicKey);
        verifier.BlockUpdate(input, inputOffset, inputLength);
        return verifier.VerifySignature(signature.AsSpan(signatureOffset, signatureLength).ToArray());
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
    }
}
