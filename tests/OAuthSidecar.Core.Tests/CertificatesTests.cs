using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OAuthSidecar.Core.Loopback;

namespace OAuthSidecar.Core.Tests;

public sealed class CertificatesTests : IDisposable
{
    private readonly string dir = TestTemp.CreateDirectory("oauth-sidecar-certs-").FullName;

    public void Dispose() => Directory.Delete(this.dir, recursive: true);

    [Fact]
    public void CreateAdHoc_gives_a_short_lived_loopback_certificate_with_its_key()
    {
        using X509Certificate2 cert = Certificates.CreateAdHoc();

        Assert.True(cert.HasPrivateKey);
        Assert.Equal("CN=oauth-sidecar loopback", cert.Subject);
        Assert.True(cert.NotAfter.ToUniversalTime() <= DateTime.UtcNow.AddDays(1).AddMinutes(1));
        Assert.True(cert.NotBefore.ToUniversalTime() <= DateTime.UtcNow);
        X509SubjectAlternativeNameExtension san = Assert.Single(cert.Extensions.OfType<X509SubjectAlternativeNameExtension>());
        Assert.Contains(System.Net.IPAddress.Loopback, san.EnumerateIPAddresses());
        Assert.Contains(System.Net.IPAddress.IPv6Loopback, san.EnumerateIPAddresses());
        Assert.Contains("localhost", san.EnumerateDnsNames());
        Assert.True(cert.MatchesHostname("127.0.0.1"));
    }

    [Fact]
    public void LoadPem_with_a_missing_certificate_names_the_path()
    {
        string missing = Path.Combine(this.dir, "nope.pem");
        string key = this.Write("key.pem", "irrelevant");

        var ex = Assert.Throws<ListenFailedException>(() => Certificates.LoadPem(missing, key, "127.0.0.1", 8443));

        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
        Assert.Equal("127.0.0.1", ex.Host);
        Assert.Equal(8443, ex.Port);
    }

    [Fact]
    public void LoadPem_with_a_missing_key_names_the_path()
    {
        (string certPath, _) = this.WritePair();
        string missing = Path.Combine(this.dir, "missing-key.pem");

        var ex = Assert.Throws<ListenFailedException>(() => Certificates.LoadPem(certPath, missing, "127.0.0.1", 0));

        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPem_loads_a_PEM_pair_with_its_private_key()
    {
        using X509Certificate2 original = Certificates.CreateAdHoc();
        (string certPath, string keyPath) = this.WritePair(original);

        using X509Certificate2 loaded = Certificates.LoadPem(certPath, keyPath, "127.0.0.1", 0);

        Assert.True(loaded.HasPrivateKey);
        Assert.Equal(original.Thumbprint, loaded.Thumbprint);
        using ECDsa? key = loaded.GetECDsaPrivateKey();
        Assert.NotNull(key);
        byte[] data = [1, 2, 3];
        byte[] signature = key.SignData(data, HashAlgorithmName.SHA256);
        using ECDsa? publicKey = original.GetECDsaPublicKey();
        Assert.True(publicKey!.VerifyData(data, signature, HashAlgorithmName.SHA256));
    }

    [Fact]
    public void LoadPem_with_a_key_of_another_certificate_fails()
    {
        (string certPath, _) = this.WritePair();
        (_, string otherKey) = this.WritePair("other");

        var ex = Assert.Throws<ListenFailedException>(() => Certificates.LoadPem(certPath, otherKey, "127.0.0.1", 0));

        Assert.Contains(certPath, ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public void LoadPem_with_garbage_fails_with_ListenFailedException()
    {
        string cert = this.Write("cert.pem", "not a certificate");
        string key = this.Write("key.pem", "not a key");

        var ex = Assert.Throws<ListenFailedException>(() => Certificates.LoadPem(cert, key, "localhost", 1234));

        Assert.Equal(1234, ex.Port);
    }

    private (string Cert, string Key) WritePair(string prefix = "pair")
    {
        using X509Certificate2 cert = Certificates.CreateAdHoc();
        return this.WritePair(cert, prefix);
    }

    private (string Cert, string Key) WritePair(X509Certificate2 cert, string prefix = "pair")
    {
        using ECDsa key = cert.GetECDsaPrivateKey()!;
        return (this.Write(prefix + "-cert.pem", cert.ExportCertificatePem()), this.Write(prefix + "-key.pem", key.ExportPkcs8PrivateKeyPem()));
    }

    private string Write(string name, string content)
    {
        string path = Path.Combine(this.dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
