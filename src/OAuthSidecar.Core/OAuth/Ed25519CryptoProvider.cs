using Microsoft.IdentityModel.Tokens;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// The crypto provider of <see cref="Ed25519SecurityKey"/> (its <see cref="CryptoProviderFactory.CustomCryptoProvider"/>):
/// it answers for the algorithm <c>EdDSA</c> with that key type only, and makes <see cref="Ed25519SignatureProvider"/>s.
/// </summary>
internal sealed class Ed25519CryptoProvider : ICryptoProvider
{
    /// <summary>Whether this provider makes signature providers for <paramref name="algorithm"/> and the arguments.</summary>
    /// <param name="algorithm">The JWS algorithm; only <c>EdDSA</c>.</param>
    /// <param name="args">The factory's arguments: the key first (an <see cref="Ed25519SecurityKey"/>).</param>
    /// <returns><see langword="true"/> for <c>EdDSA</c> with an Ed25519 key.</returns>
    public bool IsSupportedAlgorithm(string algorithm, params object[] args) =>
        algorithm == Ed25519SecurityKey.Algorithm && args is [Ed25519SecurityKey, ..];

    /// <summary>Makes a signature provider.</summary>
    /// <param name="algorithm">The JWS algorithm: <c>EdDSA</c>.</param>
    /// <param name="args">The key (an <see cref="Ed25519SecurityKey"/>), then whether signatures will be made (bool).</param>
    /// <returns>An <see cref="Ed25519SignatureProvider"/>.</returns>
    /// <exception cref="NotSupportedException">Another algorithm or key (the factory asks <see cref="IsSupportedAlgorithm"/> first).</exception>
    public object Create(string algorithm, params object[] args)
    {
        if (!this.IsSupportedAlgorithm(algorithm, args))
        {
            throw new NotSupportedException($"The Ed25519 crypto provider signs EdDSA with an Ed25519 key only, not {algorithm}.");
        }

        bool willCreateSignatures = args is [_, bool sign, ..] && sign;
        return new Ed25519SignatureProvider((Ed25519SecurityKey)args[0], willCreateSignatures);
    }

    /// <summary>Releases what <see cref="Create"/> made.</summary>
    /// <param name="cryptoInstance">A signature provider.</param>
    public void Release(object cryptoInstance)
    {
        if (cryptoInstance is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }
}
